import {
  closeRedisClient,
  createRedisClient,
  DeadLetterReason,
  DeadLetterSchema,
  encodeEnvelope,
  ensureTopology,
  JobKind,
  OutboundJobSchema,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import {
  BridgeProcess,
  loopbackBridgeArgs,
  makeTestCertificates,
  RedisServer,
  uniquePrefix,
} from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, expect, it } from "vitest";
import { runCli as run } from "../test-fixtures/run-cli.js";

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

it("refuses --grpc-host beyond loopback without --control-token: exit 2 naming both options", async () => {
  // Refused while reading the options: nothing binds and nothing connects (Redis is not even running).
  const { code, stderr } = await run(["all", "--grpc-host", "0.0.0.0", "--redis-url", "redis://127.0.0.1:1"], {
    limitMs: 15_000,
  });
  expect(code).toBe(2);
  expect(stderr).toMatch(/--control-token/);
  expect(stderr).toMatch(/--grpc-host/);
  expect(stderr).not.toMatch(/\n\s+at /);
});

it("serves the control API over TLS; dlq list masks x-api-key and URL credentials unless --show-secrets", async () => {
  const certificates = await makeTestCertificates();
  const redis = await RedisServer.start();
  cleanup.push(() => redis.stop());
  const prefix = uniquePrefix("control-tls");
  const bridge = await BridgeProcess.start(
    "all",
    loopbackBridgeArgs("all", redis.url, prefix, [
      "--grpc-tls-cert-file",
      certificates.server.certFile,
      "--grpc-tls-key-file",
      certificates.server.keyFile,
    ]),
  );
  cleanup.push(() => bridge.stop());

  const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
  cleanup.push(() => closeRedisClient(client));
  await waitUntilReady(client);
  const keyspace = await ensureTopology(client, prefix, {
    inboundPartitions: 16,
    outboundPartitions: 16,
    eventPartitions: 4,
    adminPartitions: 1,
  });
  const job = create(OutboundJobSchema, {
    mid: "tls-secret-job",
    kind: JobKind.WEBHOOK,
    recipientKey: "webhook:c1",
    endpoint: "https://ops:endpoint-pw-5e1@controller.example/topic/x/?api_key=query-key-3b7",
    headers: { "x-api-key": "header-key-a9d" },
  });
  await client.xadd(
    keyspace.key("outboundDeadLetters", { partition: 3 }),
    "*",
    keyspace.spec("outboundDeadLetters").entryField,
    Buffer.from(
      encodeEnvelope(
        DeadLetterSchema,
        create(DeadLetterSchema, {
          mid: job.mid,
          reason: DeadLetterReason.REJECTED,
          detail: `HTTP 410 from ${job.endpoint}`,
          attempts: 1,
          original: { case: "outboundJob", value: job },
        }),
      ),
    ),
  );
  const address = ["--control-address", bridge.address("grpc")];
  const trust = ["--control-ca-file", certificates.ca.certFile];

  const plaintext = await run(["dlq", "list", "--family", "outbound", ...address]);
  expect(plaintext.code).not.toBe(0);

  const masked = await run(["dlq", "list", "--family", "outbound", "--json", ...address, ...trust]);
  expect(masked.code, masked.stderr).toBe(0);
  expect(masked.stdout).toContain("tls-secret-job");
  for (const secret of ["endpoint-pw-5e1", "query-key-3b7", "header-key-a9d"])
    expect(masked.stdout).not.toContain(secret);

  const shown = await run(["dlq", "list", "--family", "outbound", "--json", "--show-secrets", ...address, ...trust]);
  expect(shown.code, shown.stderr).toBe(0);
  for (const secret of ["endpoint-pw-5e1", "query-key-3b7", "header-key-a9d"]) expect(shown.stdout).toContain(secret);
}, 90_000);
