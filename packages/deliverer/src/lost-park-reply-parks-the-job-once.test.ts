import { holdStill, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  enqueueNumberedJobs,
  openTestBed,
  outboundResidue,
  startTestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";
import type { PartitionScripts } from "./partition-scripts.js";

/**
 * ioredis may send a script again after a lost connection although Redis ran it, and the worker
 * runs a step again when its reply is lost: either way admit or defer runs twice for one entry.
 */
describe("a park step run twice", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  /** Jobs 1, 2, 3 for one recipient; the endpoint fails the first request only. */
  async function recipientWhoseFirstAttemptFails(name: string, loseOneReply: (scripts: PartitionScripts) => void) {
    let answered = 0;
    const bed = await openTestBed(inject("redisUrl"), name, cleanup, () => (answered++ === 0 ? 503 : 200));
    const { connection, sink, client, keyspace } = bed;
    const partition = await enqueueNumberedJobs(bed, `rk-${name}`);
    const owner = await startTestPartitionWorker(connection, client, keyspace, partition, name, {
      config: { maxAttempts: 10 },
      prepare: loseOneReply,
    });
    cleanup.push(() => owner.stop());

    await waitFor("all three delivered", () => sink.delivered.length >= 3, 10_000);
    await waitFor(
      "no residue",
      async () => {
        const r = await outboundResidue(client, keyspace);
        return r.backlog === 0 && r.pending === 0 && r.parked === 0;
      },
      15_000,
    );
    await holdStill(300, "late duplicates, if any, would arrive after the park list drained");
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
    return sink.delivered.map((r) => r.body.toString());
  }

  it("delivers the deferred job once, in the recipient's order, when defer ran in Redis but its reply was lost", async () => {
    let repliesLost = 0;
    const delivered = await recipientWhoseFirstAttemptFails("defer-twice", (scripts) => {
      const defer = scripts.defer.bind(scripts);
      scripts.defer = async (...args) => {
        await defer(...args);
        if (repliesLost++ === 0) throw new Error("Command timed out");
      };
    });
    expect(repliesLost).toBe(1);
    expect(delivered).toEqual(["1", "2", "3"]);
  });

  it("delivers a job queued behind parked ones once when admit ran in Redis but its reply was lost", async () => {
    let repliesLost = 0;
    const delivered = await recipientWhoseFirstAttemptFails("admit-twice", (scripts) => {
      const admit = scripts.admit.bind(scripts);
      scripts.admit = async (...args) => {
        const verdict = await admit(...args);
        if (verdict === "PARKED" && repliesLost++ === 0) throw new Error("Command timed out");
        return verdict;
      };
    });
    expect(repliesLost).toBeGreaterThanOrEqual(1);
    expect(delivered).toEqual(["1", "2", "3"]);
  });
});
