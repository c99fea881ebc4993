import { DeadLetterReason } from "@acapy-bridge/protocol";
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
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

// Every deliverer script keeps its keys in one partition's slot: on a real
// 3-master Cluster a delivery, a retry (park, retry_fail, retry_ok) and a
// dead letter all work, on partitions spread over the masters.
describe("deliverer on a Redis Cluster", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("delivers, retries in order and dead-letters with every script on one slot", async () => {
    const connection = connectionFor(inject("redisClusterUrl"), uniquePrefix("cluster"), true);
    let failuresLeft = 3;
    const sink = await RecordingSink.start((req) => {
      if (req.path === "/gone") return 404;
      if (req.path === "/down") return 503;
      if (req.path === "/flaky" && failuresLeft > 0) {
        failuresLeft--;
        return 502;
      }
      return 200;
    });
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const { deliverer } = await startTestDeliverer(connection, "d-cluster");
    cleanup.push(() => deliverer.stop());
    await waitFor("all partitions owned", () => deliverer.ownedPartitions().length === 8, 10_000);

    const partitions = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const rk = `rk-cluster-${i}`;
      partitions.add(
        await enqueueJob(
          client,
          keyspace,
          makeJob({ recipientKey: rk, endpoint: `${sink.url}/ok`, body: Buffer.from(rk) }),
        ),
      );
    }
    for (let seq = 0; seq < 5; seq++) {
      await enqueueJob(
        client,
        keyspace,
        makeJob({ recipientKey: "rk-flaky", endpoint: `${sink.url}/flaky`, body: Buffer.from(String(seq)) }),
      );
    }
    const gone = makeJob({ recipientKey: "rk-gone", endpoint: `${sink.url}/gone` });
    await enqueueJob(client, keyspace, gone);
    // Parked, retried until the attempt limit, then dead-lettered from the park list (and the next one too).
    const down = [0, 1].map(() => makeJob({ recipientKey: "rk-down", endpoint: `${sink.url}/down` }));
    for (const job of down) await enqueueJob(client, keyspace, job);
    expect(partitions.size).toBeGreaterThan(4); // spread over the masters

    await waitFor("deliveries", () => sink.delivered.length >= 29, 15_000);
    expect(sink.delivered.filter((r) => r.path === "/flaky").map((r) => r.body.toString())).toEqual([
      "0",
      "1",
      "2",
      "3",
      "4",
    ]);
    expect(sink.received.filter((r) => r.path === "/flaky" && r.status === 502)).toHaveLength(3);
    const letters = await waitFor(
      "the dead letters",
      async () => {
        const all = await readOutboundDeadLetters(client, keyspace);
        return all.length >= 3 ? all : undefined;
      },
      15_000,
    );
    const byMid = new Map(letters.map((l) => [l.letter.mid, l.letter]));
    expect(byMid.get(gone.mid)).toMatchObject({ reason: DeadLetterReason.REJECTED, detail: "HTTP 404" });
    for (const job of down) {
      expect(byMid.get(job.mid)).toMatchObject({ reason: DeadLetterReason.ATTEMPTS_EXHAUSTED, attempts: 5 });
    }
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
  });
});
