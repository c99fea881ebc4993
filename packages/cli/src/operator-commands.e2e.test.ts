import { readFileSync } from "node:fs";
import {
  closeRedisClient,
  createRedisClient,
  DeadLetterReason,
  DeadLetterSchema,
  encodeEnvelope,
  ensureTopology,
  instanceInfo,
  JobKind,
  type Keyspace,
  Membership,
  OutboundJobSchema,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { BridgeProcess, loopbackBridgeArgs, RedisServer, uniquePrefix } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "../test-fixtures/run-cli.js";

const NO_STACK = /\n\s+at /;

// Issue 18, "Operating it": the CLI's rough edges an operator meets in the first week.
describe("acapy-bridge options", () => {
  it("prints its version from package.json", async () => {
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    const { code, stdout } = await runCli(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(`acapy-bridge ${manifest.version}`);
  });

  it("refuses a --redis-url with a wrong scheme with exit 2 naming the option, not a stack trace", async () => {
    const { code, stderr } = await runCli(["relay", "--redis-url", "http://127.0.0.1:6379"], { limitMs: 15_000 });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--redis-url/);
    expect(stderr).toMatch(/redis:\/\/ or rediss:\/\//);
    expect(stderr).not.toMatch(NO_STACK);
  });

  it("refuses a misspelled ACAPY_BRIDGE_* variable, naming it and the one meant", async () => {
    const { code, stderr } = await runCli(["relay", "--redis-url", inject("redisUrl")], {
      env: { ...process.env, ACAPY_BRIDGE_REDIS_URLL: "redis://127.0.0.1:1" },
      limitMs: 15_000,
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/ACAPY_BRIDGE_REDIS_URLL/);
    expect(stderr).toMatch(/did you mean ACAPY_BRIDGE_REDIS_URL\?/);
  });
});

describe("acapy-bridge dlq and status against a running process", () => {
  let redis: RedisServer;
  let bridge: BridgeProcess;
  let client: RedisClient;
  let keyspace: Keyspace;
  let address: string[];
  const prefix = uniquePrefix("operator");

  beforeAll(async () => {
    redis = await RedisServer.start();
    bridge = await BridgeProcess.start("all", loopbackBridgeArgs("all", redis.url, prefix));
    address = ["--control-address", bridge.address("grpc")];
    client = createRedisClient({ url: redis.url, cluster: false }, "commands");
    await waitUntilReady(client);
    keyspace = await ensureTopology(client, prefix, {
      inboundPartitions: 16,
      outboundPartitions: 16,
      eventPartitions: 4,
      adminPartitions: 1,
    });
    const job = create(OutboundJobSchema, {
      mid: "operator-job",
      kind: JobKind.DIDCOMM,
      recipientKey: "rk-operator",
      endpoint: "http://127.0.0.1:1/",
      body: new TextEncoder().encode('{"hello":"operator"}'),
    });
    await client.xadd(
      keyspace.key("outboundDeadLetters", { partition: 5 }),
      "*",
      keyspace.spec("outboundDeadLetters").entryField,
      Buffer.from(
        encodeEnvelope(
          DeadLetterSchema,
          create(DeadLetterSchema, {
            mid: job.mid,
            reason: DeadLetterReason.REJECTED,
            detail: "HTTP 410",
            attempts: 1,
            original: { case: "outboundJob", value: job },
          }),
        ),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await closeRedisClient(client);
    await bridge.stop();
    await redis.stop();
  });

  it("refuses a bare drop or requeue without --all, and leaves the dead letters", async () => {
    for (const action of ["drop", "requeue"]) {
      const { code, stderr } = await runCli(["dlq", action, ...address]);
      expect(code, action).toBe(2);
      expect(stderr).toMatch(/--all/);
    }
    expect(await client.xlen(keyspace.key("outboundDeadLetters", { partition: 5 }))).toBe(1);
  });

  it("exits non-zero when a requeue matched nothing", async () => {
    const { code, stdout } = await runCli(["dlq", "requeue", "--entry", "0-1", ...address]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ requeued: 0 });
  });

  it("prints readable JSON: enum names, base64 bodies, no $typeName", async () => {
    const { code, stdout } = await runCli(["dlq", "list", "--json", "--family", "outbound", ...address]);
    expect(code).toBe(0);
    expect(stdout).not.toContain("$typeName");
    const listed = JSON.parse(stdout) as {
      entries: {
        partition: number;
        deadLetter: { mid: string; reason: string; outboundJob: { kind: string; body: string } };
      }[];
    };
    const entry = listed.entries.find((e) => e.deadLetter.mid === "operator-job");
    expect(entry?.deadLetter.reason).toBe("DEAD_LETTER_REASON_REJECTED");
    expect(entry?.deadLetter.outboundJob.kind).toBe("JOB_KIND_DIDCOMM");
    expect(Buffer.from(entry?.deadLetter.outboundJob.body ?? "", "base64").toString()).toBe('{"hello":"operator"}');
    expect(stdout.split("\n").length).toBeLessThan(60);
  });

  it("status lists an `all` process once with its role, and no stopped shim", async () => {
    const live = new Membership({ client, keyspace, info: instanceInfo({ instanceId: "shim-live", role: "shim" }) });
    const stopped = new Membership({
      client,
      keyspace,
      info: instanceInfo({ instanceId: "shim-stopped", role: "shim" }),
    });
    await live.beat();
    await stopped.beat();
    await stopped.stopAsDead();
    // A shim killed long ago: its heartbeat aged in the members set, nobody removed it.
    await client.zadd(keyspace.key("members", { role: "shim" }), Date.now() - 3_600_000, "shim-killed");

    const { code, stdout } = await runCli(["status", "--json", ...address]);
    expect(code).toBe(0);
    expect(stdout).not.toContain("$typeName");
    const status = JSON.parse(stdout) as { instances: { instanceId: string; role: string }[] };
    const mine = status.instances.filter((i) => i.instanceId.startsWith("all-"));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.role).toBe("all");
    const shims = status.instances.filter((i) => i.role === "shim").map((i) => i.instanceId);
    expect(shims).toEqual(["shim-live"]);
  });
});
