import {
  DeadLetterReason,
  encodeEnvelope,
  ensureGroup,
  type Keyspace,
  lua,
  ParkedJobSchema,
  type RedisClient,
  readGroup,
} from "@acapy-bridge/protocol";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { closeRedisClient, connectionFor, makeJob, openRedis } from "../test-fixtures/deliverer-harness.js";
import { buildDeadLetter, readOutboundDeadLetters } from "./dead-letters.js";
import { PartitionScripts } from "./partition-scripts.js";

const OWNER = "d-scripts:1";
const RECIPIENT = "rk-scripts";

function parkedJob(mid: string): Buffer {
  const job = makeJob({ mid, recipientKey: RECIPIENT, endpoint: "https://agent.example/" });
  return Buffer.from(encodeEnvelope(ParkedJobSchema, create(ParkedJobSchema, { attempts: 1, job })));
}

describe("partition scripts on a standalone Redis", () => {
  let client: RedisClient;
  let keyspace: Keyspace;
  let partition = 0;

  beforeAll(async () => {
    ({ client, keyspace } = await openRedis(connectionFor(inject("redisUrl"), uniquePrefix("part-scripts"))));
  });
  afterAll(async () => closeRedisClient(client));

  /** The scripts of a fresh partition whose lease we hold, with H1, H2, H3 parked for one recipient. */
  async function ownedPartitionWithParkedJobs() {
    const scripts = new PartitionScripts(client, keyspace, partition++, OWNER, 0);
    expect(await lua.leaseAcquire(client, { lease: scripts.lease, owner: OWNER, ttlMs: 60_000 })).toEqual(["OK"]);
    const heads = [parkedJob("m-h1"), parkedJob("m-h2"), parkedJob("m-h3")];
    await client.rpush(scripts.park(RECIPIENT), ...heads);
    await client.zadd(scripts.retry, Date.now(), RECIPIENT);
    return { scripts, heads: heads as [Buffer, Buffer, Buffer] };
  }

  // ioredis resends a command whose reply a dropped connection lost, although Redis ran it.
  it("retry_ok run twice for the same delivered head removes that head only and leaves H2 at the head", async () => {
    const { scripts, heads } = await ownedPartitionWithParkedJobs();
    const [h1, h2, h3] = heads;
    expect(await scripts.retryOk(RECIPIENT, h1)).toBe(true);
    expect(await scripts.retryOk(RECIPIENT, h1)).toBe(true);
    expect(await client.lrangeBuffer(scripts.park(RECIPIENT), 0, -1)).toEqual([h2, h3]);
    expect(await client.zscore(scripts.retry, RECIPIENT)).not.toBeNull();
  });

  it("retry_ok without a delivered head removes nothing and keeps the recipient scheduled", async () => {
    const { scripts, heads } = await ownedPartitionWithParkedJobs();
    expect(await scripts.retryOk(RECIPIENT, undefined)).toBe(true);
    expect(await client.llen(scripts.park(RECIPIENT))).toBe(heads.length);
    await client.del(scripts.park(RECIPIENT));
    expect(await scripts.retryOk(RECIPIENT, undefined)).toBe(false);
    expect(await client.zscore(scripts.retry, RECIPIENT)).toBeNull();
  });

  it("bury_parked run twice for the same head writes one dead letter and leaves H2 at the head", async () => {
    const { scripts, heads } = await ownedPartitionWithParkedJobs();
    const [h1, h2, h3] = heads;
    const letter = buildDeadLetter({
      reason: DeadLetterReason.ATTEMPTS_EXHAUSTED,
      detail: "HTTP 503",
      attempts: 15,
      sourceKey: scripts.park(RECIPIENT),
      instanceId: OWNER,
      mid: "m-h1",
    });
    expect(await scripts.buryParked(RECIPIENT, h1, letter)).toBe(true);
    expect(await scripts.buryParked(RECIPIENT, h1, letter)).toBe(true);
    expect(await client.lrangeBuffer(scripts.park(RECIPIENT), 0, -1)).toEqual([h2, h3]);
    const letters = (await readOutboundDeadLetters(client, keyspace)).filter((l) => l.partition === scripts.partition);
    expect(letters.map((l) => l.letter.mid)).toEqual(["m-h1"]);
  });

  /** Adds one job to the partition's stream and reads it as the group's member, so it is pending. */
  async function pendingEntry(scripts: PartitionScripts, mid: string): Promise<string> {
    await ensureGroup(client, scripts.stream, scripts.group);
    await client.xadd(scripts.stream, "*", scripts.entryField, mid);
    const [entry] = await readGroup(client, {
      stream: scripts.stream,
      group: scripts.group,
      consumer: OWNER,
      entryField: scripts.entryField,
      count: 1,
      after: ">",
    });
    if (!entry) throw new Error("no entry read");
    return entry.id;
  }

  it("admit run twice for the same entry parks one copy behind H1..H3 and answers PARKED both times", async () => {
    const { scripts, heads } = await ownedPartitionWithParkedJobs();
    const id = await pendingEntry(scripts, "m-new");
    const queued = parkedJob("m-new");
    expect(await scripts.admit(id, RECIPIENT, queued)).toBe("PARKED");
    expect(await scripts.admit(id, RECIPIENT, queued)).toBe("PARKED");
    expect(await client.lrangeBuffer(scripts.park(RECIPIENT), 0, -1)).toEqual([...heads, queued]);
    expect(await client.xlen(scripts.stream)).toBe(0);
    expect(((await client.xpending(scripts.stream, scripts.group)) as [number])[0]).toBe(0);
  });

  it("defer run twice for the same entry parks one copy at the head and keeps the first run's due time", async () => {
    const scripts = new PartitionScripts(client, keyspace, partition++, OWNER, 0);
    expect(await lua.leaseAcquire(client, { lease: scripts.lease, owner: OWNER, ttlMs: 60_000 })).toEqual(["OK"]);
    const id = await pendingEntry(scripts, "m-failed");
    const failed = parkedJob("m-failed");
    const due = Date.now() + 1_000;
    await scripts.defer(id, RECIPIENT, failed, due);
    await scripts.defer(id, RECIPIENT, failed, due + 5_000);
    expect(await client.lrangeBuffer(scripts.park(RECIPIENT), 0, -1)).toEqual([failed]);
    expect(Number(await client.zscore(scripts.retry, RECIPIENT))).toBe(due);
    expect(await client.xlen(scripts.stream)).toBe(0);
    expect(((await client.xpending(scripts.stream, scripts.group)) as [number])[0]).toBe(0);
  });

  it("fenced_ack acknowledges and deletes 10,000 entries in one call", async () => {
    const scripts = new PartitionScripts(client, keyspace, partition++, OWNER, 0);
    expect(await lua.leaseAcquire(client, { lease: scripts.lease, owner: OWNER, ttlMs: 60_000 })).toEqual(["OK"]);
    await ensureGroup(client, scripts.stream, scripts.group);
    const adding = client.pipeline();
    for (let i = 0; i < 10_000; i++) adding.xadd(scripts.stream, "*", scripts.entryField, `job-${i}`);
    await adding.exec();
    const entries = await readGroup(client, {
      stream: scripts.stream,
      group: scripts.group,
      consumer: OWNER,
      entryField: scripts.entryField,
      count: 10_000,
      after: ">",
    });
    expect(entries).toHaveLength(10_000);
    await scripts.ack(entries.map((e) => e.id));
    expect(await client.xlen(scripts.stream)).toBe(0);
    expect(((await client.xpending(scripts.stream, scripts.group)) as [number])[0]).toBe(0);
  });
});
