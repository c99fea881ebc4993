import { partitionOf } from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  commandsWithLateReadOfPreviousOwner,
  enqueueJob,
  enqueueNumberedJobs,
  makeJob,
  openTestBed,
  outboundResidue,
  startTestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

describe("the stranded sweep", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("takes an entry acknowledged and deleted after its claim as done, not as a MALFORMED dead letter", async () => {
    const bed = await openTestBed(inject("redisUrl"), "sweep-settled", cleanup);
    const { connection, sink, client, keyspace } = bed;
    const ids: string[] = [];
    const partition = await enqueueNumberedJobs(bed, "rk-settled");
    const { commands, lateRead } = await commandsWithLateReadOfPreviousOwner(connection, client, keyspace, partition);
    cleanup.push(() => closeRedisClient(commands));
    // Another path settles entry 2 (acknowledges and deletes it) between the sweep's claim and its read.
    const stream = keyspace.key("outboundQueue", { partition });
    const group = keyspace.spec("outboundQueue").consumerGroup;
    type Range = (key: string, start: string, end: string) => Promise<unknown>;
    const patched = commands as unknown as { xrangeBuffer: Range };
    const range = patched.xrangeBuffer.bind(commands);
    patched.xrangeBuffer = async (key, start, end) => {
      if (start === ids[1] && end === ids[1]) {
        await client.xack(stream, group, start);
        await client.xdel(stream, start);
      }
      return range(key, start, end);
    };

    const owner = await startTestPartitionWorker(connection, client, keyspace, partition, "d-settled", {
      commands,
      strandedSweepMs: 100,
      strandedIdleMs: 300,
    });
    cleanup.push(() => owner.stop());
    ids.push(...(await lateRead()).map((e) => e.id));
    expect(ids).toHaveLength(3);

    await waitFor("entries 1 and 3 delivered", () => sink.delivered.length >= 2, 10_000);
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
    expect(sink.delivered.map((r) => r.body.toString())).toEqual(["1", "3"]);
  });

  it("runs one sweep at a time: entries delivered while a sweep waits for room are not dead-lettered", async () => {
    const { connection, sink, client, keyspace } = await openTestBed(inject("redisUrl"), "sweep-alone", cleanup);
    sink.delayMs = 150;
    // Six recipients of one partition, each with a lane of its own.
    const partitions = keyspace.partitionCount("outboundQueue");
    const partition = partitionOf("rk-alone-0", partitions);
    const recipients = Array.from({ length: 200 }, (_, i) => `rk-alone-${i}`)
      .filter((rk) => partitionOf(rk, partitions) === partition)
      .slice(0, 6);
    for (const [i, rk] of recipients.entries()) {
      await enqueueJob(
        client,
        keyspace,
        makeJob({ recipientKey: rk, endpoint: `${sink.url}/a`, body: Buffer.from(`${i}`) }),
      );
    }
    const { commands, lateRead } = await commandsWithLateReadOfPreviousOwner(connection, client, keyspace, partition);
    cleanup.push(() => closeRedisClient(commands));
    // A second sweep started while the first waits would claim again what the first has in hand.
    let claimedIds = 0;
    type Claim = (...args: unknown[]) => Promise<[unknown, unknown[]]>;
    const patched = commands as unknown as { xautoclaim: Claim };
    const claim = patched.xautoclaim.bind(commands);
    patched.xautoclaim = async (...args: unknown[]) => {
      const reply = await claim(...args);
      claimedIds += reply[1].length;
      return reply;
    };

    // One entry held at a time: a sweep hands an entry over, then waits for room while
    // the sweep timer fires again and again.
    const owner = await startTestPartitionWorker(connection, client, keyspace, partition, "d-alone", {
      commands,
      strandedSweepMs: 50,
      strandedIdleMs: 100,
      config: { partitionBuffer: 1 },
    });
    cleanup.push(() => owner.stop());
    expect(await lateRead()).toHaveLength(6);

    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
    expect(new Set(sink.delivered.map((r) => r.body.toString())).size).toBe(6);
    expect(claimedIds).toBe(6);
  });
});
