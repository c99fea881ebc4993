import {
  AdminRequestSchema,
  AdminResponseSchema,
  closeRedisClient,
  createRedisClient,
  decodeEnvelope,
  encodeEnvelope,
  ensureGroup,
  ensureTopology,
  instanceInfo,
  type Keyspace,
  lua,
  Membership,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { RedisServer, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { AdminNoLiveInstanceError, AdminOutcomeUnknownError } from "./admin-errors.js";
import { ADMIN_EXECUTOR_ROLE, RedisAdminClient } from "./redis-admin-client.js";

// The shim's side is played here by a stand-in that follows the contract (the real executor is
// plugin-py-shim's admin_executor.py; the relay's e2e tests run it against ACA-Py).
const deployments = [
  { name: "standalone", url: () => inject("redisUrl"), cluster: false },
  { name: "cluster", url: () => inject("redisClusterUrl"), cluster: true },
];

describe.each(deployments)("RedisAdminClient on $name Redis", ({ name, url, cluster }) => {
  let client: RedisClient;
  let keyspace: Keyspace;
  const opened: RedisAdminClient[] = [];
  const executors: Membership[] = [];

  beforeAll(async () => {
    client = createRedisClient({ url: url(), cluster }, "commands");
    await waitUntilReady(client);
    keyspace = await ensureTopology(client, uniquePrefix(`admreq-${name}`), {
      inboundPartitions: 1,
      outboundPartitions: 1,
      eventPartitions: 1,
      adminPartitions: 3,
    });
    for (const stream of allAdminPartitions()) await ensureGroup(client, stream, "acapy");
  });
  afterEach(async () => {
    for (const admin of opened.splice(0)) await admin.close();
    for (const member of executors.splice(0)) await member.stop();
  });
  afterAll(async () => closeRedisClient(client));

  function allAdminPartitions(): string[] {
    return [0, 1, 2].map((partition) => keyspace.key("adminRequests", { partition }));
  }

  function adminClient(timeoutMs = 2_000): RedisAdminClient {
    const admin = new RedisAdminClient({ client, keyspace, timeoutMs });
    opened.push(admin);
    return admin;
  }

  async function liveExecutor(instanceId: string): Promise<void> {
    const member = new Membership({ client, keyspace, info: instanceInfo({ instanceId, role: ADMIN_EXECUTOR_ROLE }) });
    await member.beat();
    executors.push(member);
  }

  /** Reads one request like the shim does (NOACK, then a "run" claim); null when none came. */
  async function takeOne(instanceId: string) {
    for (const stream of allAdminPartitions()) {
      const read = (await client.xreadgroup(
        "GROUP",
        "acapy",
        instanceId,
        "COUNT",
        1,
        "NOACK",
        "STREAMS",
        stream,
        ">",
      )) as [string, [string, string[]][]][] | null;
      const entry = read?.[0]?.[1][0];
      if (!entry) continue;
      const [entryId] = entry;
      const raw = (await client.xrangeBuffer(stream, entryId, entryId))[0]?.[1][1];
      const request = decodeEnvelope(AdminRequestSchema, raw as Buffer);
      const partition = allAdminPartitions().indexOf(stream);
      const won = await lua.adminClaim(client, {
        stream,
        claim: keyspace.key("adminClaims", { partition, mid: request.mid }),
        entryId,
        claimant: "run",
        ttlMs: 60_000,
      });
      return { request, won };
    }
    return null;
  }

  it("answers 503 at once, without queueing anything, while no instance serves admin calls", async () => {
    const admin = adminClient(10_000);
    const started = Date.now();
    const failure = await admin.request({ method: "get", path: "/status?x=1" }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AdminNoLiveInstanceError);
    expect(failure).toMatchObject({ status: 503, reason: "no-live-instance", executed: false, path: "/status" });
    expect(Date.now() - started).toBeLessThan(1_000);
    for (const stream of allAdminPartitions()) expect(await client.xlen(stream)).toBe(0);
  });

  it("carries the call to an executor and its answer back, spreading calls over the partitions", async () => {
    await liveExecutor("exec-a");
    const admin = adminClient();
    const calls = [0, 1, 2].map((n) =>
      admin.request({
        method: "POST",
        path: `/connections/c${n}/send-message?x=${n}`,
        headers: { "X-API-Key": "k", Authorization: "Bearer t", Connection: "keep-alive", "content-length": "9" },
        body: Buffer.from(`{"n":${n}}`),
      }),
    );
    const seen = new Set<string>();
    for (let served = 0; served < 3; served++) {
      const { request, won } = await waitFor("a call to take", () => takeOne("exec-a"));
      expect(won).toBe(1);
      expect(request.headers).toEqual({ "x-api-key": "k", authorization: "Bearer t" });
      expect(request.replyTo).toBe(admin.requesterId);
      seen.add(request.path);
      const response = create(AdminResponseSchema, {
        mid: request.mid,
        requestId: request.requestId,
        status: 200,
        headers: [
          { name: "Content-Type", value: "application/json" },
          { name: "Set-Cookie", value: "a=1" },
          { name: "Set-Cookie", value: "b=2" },
        ],
        body: Buffer.concat([Buffer.from('{"echo":'), Buffer.from(request.body), Buffer.from("}")]),
        instanceId: "exec-a",
      });
      await client.rpush(
        keyspace.key("adminReplies", { requester: request.replyTo }),
        Buffer.from(encodeEnvelope(AdminResponseSchema, response)),
      );
    }
    const answers = await Promise.all(calls);
    expect(seen.size).toBe(3);
    for (const [n, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body.toString())).toEqual({ echo: { n } });
      expect(answer.headers).toEqual([
        ["Content-Type", "application/json"],
        ["Set-Cookie", "a=1"],
        ["Set-Cookie", "b=2"],
      ]);
      expect(answer.instanceId).toBe("exec-a");
    }
  });

  it("withdraws a call nobody took in time: 503 not executed, and no executor may run it later", async () => {
    await liveExecutor("exec-b");
    const admin = adminClient(300);
    const failure = await admin.request({ method: "POST", path: "/out-of-band/create-invitation" }).catch((e) => e);
    expect(failure).toBeInstanceOf(AdminNoLiveInstanceError);
    expect(failure).toMatchObject({ status: 503, reason: "not-taken-in-time" });
    for (const stream of allAdminPartitions()) expect(await client.xlen(stream)).toBe(0);
  });

  it("answers 504 outcome unknown when an executor took the call and never answered", async () => {
    await liveExecutor("exec-c");
    const admin = adminClient(500);
    const pending = admin.request({ method: "POST", path: "/issue-credential-2.0/send" }).catch((e) => e);
    const taken = await waitFor("the stand-in executor took the call", () => takeOne("exec-c"));
    expect(taken.won).toBe(1);
    const failure = await pending;
    expect(failure).toBeInstanceOf(AdminOutcomeUnknownError);
    expect(failure).toMatchObject({ status: 504, executed: "unknown" });
    expect(String((failure as Error).message)).toContain("outcome is unknown");
  });
});

describe("RedisAdminClient while Redis is away", () => {
  it("answers 503 not executed, nothing queued, when it cannot ask Redis who is alive", async () => {
    const redis = await RedisServer.start();
    const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
    await waitUntilReady(client);
    const keyspace = await ensureTopology(client, uniquePrefix("admreq-away"), {
      inboundPartitions: 1,
      outboundPartitions: 1,
      eventPartitions: 1,
      adminPartitions: 1,
    });
    const admin = new RedisAdminClient({ client, keyspace, timeoutMs: 2_000 });
    try {
      await redis.stop();
      const failure = await admin.request({ method: "POST", path: "/connections/c1/send-message" }).catch((e) => e);
      expect(failure).toBeInstanceOf(AdminNoLiveInstanceError);
      expect(failure).toMatchObject({ status: 503, reason: "redis-unreachable", executed: false });
    } finally {
      await admin.close();
      client.disconnect();
    }
  });
});
