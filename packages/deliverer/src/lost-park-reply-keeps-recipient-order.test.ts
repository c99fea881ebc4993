import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  outboundResidue,
  RecordingSink,
  startTestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

describe("a lost park reply", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("keeps the recipient's order when defer ran in Redis but its reply was lost", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("lost-defer-reply"));
    let answered = 0;
    const sink = await RecordingSink.start(() => (answered++ === 0 ? 503 : 200));
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    let partition = 0;
    for (const seq of [1, 2, 3]) {
      partition = await enqueueJob(
        client,
        keyspace,
        makeJob({ recipientKey: "rk-lost-reply", endpoint: `${sink.url}/r`, body: Buffer.from(String(seq)) }),
      );
    }
    let repliesLost = 0;
    const owner = await startTestPartitionWorker(connection, client, keyspace, partition, "d-lost-reply", {
      config: { maxAttempts: 10 },
      prepare: (scripts) => {
        const defer = scripts.defer.bind(scripts);
        scripts.defer = async (...args) => {
          await defer(...args);
          if (repliesLost++ === 0) throw new Error("Command timed out");
        };
      },
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
    const delivered = sink.delivered.map((r) => r.body.toString());
    expect(repliesLost).toBe(1);
    expect(delivered.lastIndexOf("1")).toBeLessThan(delivered.indexOf("3"));
    expect(new Set(delivered)).toEqual(new Set(["1", "2", "3"]));
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
  });
});
