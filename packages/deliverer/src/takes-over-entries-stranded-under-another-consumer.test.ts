import { waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  commandsWithLateReadOfPreviousOwner,
  enqueueNumberedJobs,
  openTestBed,
  outboundResidue,
  startTestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

describe("stranded entries of another consumer", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("delivers, in order, entries left pending under a consumer that is not the owner once they are idle", async () => {
    const bed = await openTestBed(inject("redisUrl"), "stranded-ghost", cleanup);
    const { connection, sink, client, keyspace } = bed;
    const partition = await enqueueNumberedJobs(bed, "rk-ghost");
    const { commands, lateRead } = await commandsWithLateReadOfPreviousOwner(connection, client, keyspace, partition);
    cleanup.push(() => closeRedisClient(commands));

    const owner = await startTestPartitionWorker(connection, client, keyspace, partition, "d-owner", {
      commands,
      strandedSweepMs: 100,
      strandedIdleMs: 500,
    });
    cleanup.push(() => owner.stop());
    expect(await lateRead()).toHaveLength(3);

    await waitFor("all three delivered", () => sink.delivered.length >= 3, 10_000);
    expect(sink.delivered.map((r) => r.body.toString())).toEqual(["1", "2", "3"]);
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
    expect(await owner.services.metrics.metrics()).toMatch(
      /^acapy_bridge_deliverer_stranded_entries_total(\{[^}]*\})? 3$/m,
    );
  });
});
