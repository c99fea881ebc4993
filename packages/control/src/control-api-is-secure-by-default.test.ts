import {
  closeRedisClient,
  createRedisClient,
  DeadLetterReason,
  DeadLetterSchema,
  encodeEnvelope,
  ensureTopology,
  JobKind,
  type Keyspace,
  OutboundJobSchema,
  QueueFamily,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { makeTestCertificates, type TestCertificates } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controlBindProblem, isLoopbackHost } from "./bind-policy.js";
import { ControlClient } from "./control-client.js";
import { ControlBindError, ControlServer } from "./control-server.js";

type Listed = {
  entries: {
    deadLetter: {
      mid: string;
      detail: string;
      original: { case: string; value: { endpoint: string; headers: Record<string, string> } };
    };
  }[];
};

// Issue 18: with no token the control API served plaintext gRPC to anyone who reached it,
// and `dlq list` returned webhook x-api-key headers and credentialed endpoints.
describe("control API secure by default", () => {
  let client: RedisClient;
  let keyspace: Keyspace;
  let certificates: TestCertificates;
  const closers: (() => unknown)[] = [];

  beforeAll(async () => {
    certificates = await makeTestCertificates();
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    await waitUntilReady(client);
    keyspace = await ensureTopology(client, `t-control-secure-${Date.now()}`, {
      inboundPartitions: 1,
      outboundPartitions: 1,
      eventPartitions: 1,
      adminPartitions: 1,
    });
    const job = create(OutboundJobSchema, {
      mid: "secret-job",
      kind: JobKind.WEBHOOK,
      recipientKey: "webhook:c1",
      endpoint: "https://ops:endpoint-pw@controller.example/topic/x/?api_key=query-key",
      headers: { "x-api-key": "header-key", authorization: "Bearer bearer-token", "x-wallet-id": "w1" },
    });
    const deadLetter = create(DeadLetterSchema, {
      mid: job.mid,
      reason: DeadLetterReason.REJECTED,
      detail: `HTTP 410 from ${job.endpoint}`,
      attempts: 1,
      original: { case: "outboundJob", value: job },
    });
    await client.xadd(
      keyspace.key("outboundDeadLetters", { partition: 0 }),
      "*",
      keyspace.spec("outboundDeadLetters").entryField,
      Buffer.from(encodeEnvelope(DeadLetterSchema, deadLetter)),
    );
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    await closeRedisClient(client);
  });

  async function startServer(options: Partial<ConstructorParameters<typeof ControlServer>[0]> = {}) {
    const server = new ControlServer({ client, keyspace, isServing: () => true, ...options });
    const port = await server.listen("127.0.0.1", 0);
    closers.push(() => server.close());
    return port;
  }

  it("knows loopback from everything else", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"]) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.org", "128.0.0.1", "::2"]) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
    expect(controlBindProblem("0.0.0.0", "t")).toBeUndefined();
    expect(controlBindProblem("0.0.0.0", undefined)).toMatch(/--control-token.*--grpc-host/);
  });

  it("refuses to listen beyond loopback without a token, before binding anything", async () => {
    const server = new ControlServer({ client, keyspace, isServing: () => true });
    closers.push(() => server.close());
    // 0.0.0.0 is refused by policy before any socket exists: nothing is bound, nothing connects.
    await expect(server.listen("0.0.0.0", 0)).rejects.toBeInstanceOf(ControlBindError);
  });

  it("masks x-api-key, authorization and URL credentials in listed dead letters unless asked", async () => {
    const port = await startServer();
    const control = new ControlClient(`127.0.0.1:${port}`);
    closers.push(() => control.close());

    const masked = (await control.listDeadLetters(QueueFamily.OUTBOUND)) as Listed;
    const entry = masked.entries.find((e) => e.deadLetter.mid === "secret-job");
    expect(entry?.deadLetter.original.value.headers).toEqual({
      "x-api-key": "***",
      authorization: "***",
      "x-wallet-id": "w1",
    });
    expect(entry?.deadLetter.original.value.endpoint).toBe("https://ops:***@controller.example/topic/x/?api_key=***");
    const text = JSON.stringify(masked, (_k, v) => (typeof v === "bigint" ? String(v) : v));
    for (const secret of ["endpoint-pw", "query-key", "header-key", "bearer-token"]) expect(text).not.toContain(secret);

    const shown = (await control.listDeadLetters(QueueFamily.OUTBOUND, 100, { showSecrets: true })) as Listed;
    const full = shown.entries.find((e) => e.deadLetter.mid === "secret-job");
    expect(full?.deadLetter.original.value.headers["x-api-key"]).toBe("header-key");
    expect(full?.deadLetter.original.value.endpoint).toContain("endpoint-pw");
  });

  it("serves TLS: a client trusting its CA is answered, a plaintext client and one trusting another CA are not", async () => {
    const port = await startServer({ tls: { cert: certificates.server.cert, key: certificates.server.key } });
    const trusting = new ControlClient(`127.0.0.1:${port}`, undefined, { ca: certificates.ca.cert });
    const plaintext = new ControlClient(`127.0.0.1:${port}`);
    const distrusting = new ControlClient(`127.0.0.1:${port}`, undefined, { ca: certificates.otherCa.cert });
    closers.push(
      () => trusting.close(),
      () => plaintext.close(),
      () => distrusting.close(),
    );

    expect(await trusting.checkHealth()).toBe("SERVING");
    expect(((await trusting.listDeadLetters(QueueFamily.OUTBOUND)) as Listed).entries.length).toBeGreaterThan(0);
    await expect(plaintext.listInstances()).rejects.toMatchObject({ code: 14 });
    await expect(distrusting.listInstances()).rejects.toMatchObject({ code: 14 });
  });

  it("with a client CA, answers only clients presenting a certificate it signed", async () => {
    const port = await startServer({
      tls: { cert: certificates.server.cert, key: certificates.server.key, clientCa: certificates.ca.cert },
    });
    const withCertificate = new ControlClient(`127.0.0.1:${port}`, undefined, {
      ca: certificates.ca.cert,
      cert: certificates.client.cert,
      key: certificates.client.key,
    });
    const withoutCertificate = new ControlClient(`127.0.0.1:${port}`, undefined, { ca: certificates.ca.cert });
    closers.push(
      () => withCertificate.close(),
      () => withoutCertificate.close(),
    );

    expect(await withCertificate.checkHealth()).toBe("SERVING");
    await expect(withoutCertificate.listInstances()).rejects.toMatchObject({ code: 14 });
  });
});
