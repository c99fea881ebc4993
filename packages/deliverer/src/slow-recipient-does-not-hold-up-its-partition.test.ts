import { partitionOf } from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  orderViolations,
  outboundResidue,
  RecordingSink,
  startTestDeliverer,
  startTestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function seqOf(body: Buffer): number {
  return (JSON.parse(body.toString()) as { seq: number }).seq;
}

/** A recipient key other than `taken` that falls in the same outbound partition. */
function neighbourOf(taken: string, partitions: number): string {
  const partition = partitionOf(taken, partitions);
  for (let i = 0; ; i++) {
    const candidate = `rk-fast-${i}`;
    if (partitionOf(candidate, partitions) === partition) return candidate;
  }
}

// A slow but healthy endpoint (2xx after 300 ms) never fails into backoff: without a bound on what
// one recipient holds, its queued entries filled the partition buffer and paused reading for every
// other recipient of the partition until they had all been delivered.
describe("a recipient whose endpoint answers slowly", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("does not hold up its partition's other recipients, and gets its jobs once, in order, without backoff", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("slow-recipient"));
    const slowSink = await RecordingSink.start();
    slowSink.delayMs = 300;
    const fastSink = await RecordingSink.start();
    cleanup.push(
      () => slowSink.close(),
      () => fastSink.close(),
    );
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const partitionBuffer = 30;
    const slowJobs = 3 * partitionBuffer;
    const { deliverer, services } = await startTestDeliverer(connection, "d-slow-recipient", {
      partitionBuffer,
      recipientBuffer: 5,
      readCount: 10,
      // A backoff this long would show: the overflowed recipient is drained at once.
      backoffBaseMs: 60_000,
      backoffCapMs: 60_000,
    });
    cleanup.push(() => deliverer.stop());

    const slow = "rk-slow";
    const fast = neighbourOf(slow, keyspace.partitionCount("outboundQueue"));
    for (let seq = 0; seq < slowJobs; seq++) {
      await enqueueJob(
        client,
        keyspace,
        makeJob({
          recipientKey: slow,
          endpoint: `${slowSink.url}/slow`,
          contentType: "application/json",
          body: Buffer.from(JSON.stringify({ seq })),
        }),
      );
    }
    // Let the slow recipient's entries fill what the partition may hold before the fast job arrives.
    await sleep(200);
    const fastSentAt = Date.now();
    await enqueueJob(
      client,
      keyspace,
      makeJob({
        recipientKey: fast,
        endpoint: `${fastSink.url}/fast`,
        contentType: "application/json",
        body: Buffer.from("{}"),
      }),
    );
    await waitFor("the fast recipient's job", () => fastSink.delivered.length === 1, 10_000);
    const fastLatencyMs = (fastSink.delivered[0]?.at ?? Number.POSITIVE_INFINITY) - fastSentAt;
    const slowDeliveredBefore = slowSink.delivered.length;
    console.log(
      `[slow recipient] fast job delivered after ${fastLatencyMs} ms, ${slowDeliveredBefore} slow jobs before it`,
    );
    // Holding up the partition, it would have waited for about slowJobs - partitionBuffer slow answers (18 s).
    expect(fastLatencyMs).toBeLessThan(1_500);
    expect(slowDeliveredBefore).toBeLessThan(slowJobs - partitionBuffer);

    await waitFor("every slow job", () => slowSink.delivered.length >= slowJobs, 60_000);
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    expect(slowSink.delivered.map((r) => seqOf(r.body))).toEqual(Array.from({ length: slowJobs }, (_, i) => i));
    expect(slowSink.received).toHaveLength(slowJobs);

    const overflows = await services.metrics.getSingleMetric("acapy_bridge_deliverer_recipient_overflows_total")?.get();
    expect(overflows?.values[0]?.value ?? 0).toBeGreaterThan(0);
    // Overflowing is not failing: every job took one attempt.
    const attempts = await services.metrics.getSingleMetric("acapy_bridge_deliverer_attempts")?.get();
    const histogram = (attempts?.values ?? []) as { metricName?: string; value: number }[];
    const sum = histogram.find((v) => v.metricName === "acapy_bridge_deliverer_attempts_sum")?.value;
    const count = histogram.find((v) => v.metricName === "acapy_bridge_deliverer_attempts_count")?.value;
    expect({ sum, count }).toEqual({ sum: slowJobs + 1, count: slowJobs + 1 });
  });

  it("keeps its order across a takeover while part of its jobs wait in its park list and part in the stream", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("slow-recipient-takeover"));
    const sink = await RecordingSink.start();
    sink.delayMs = 300;
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const jobs = 60;
    let partition = 0;
    for (let seq = 0; seq < jobs; seq++) {
      partition = await enqueueJob(
        client,
        keyspace,
        makeJob({ recipientKey: "rk-slow-takeover", endpoint: `${sink.url}/slow`, body: Buffer.from(String(seq)) }),
      );
    }
    const config = { partitionBuffer: 10, recipientBuffer: 3, readCount: 5 };
    const first = await startTestPartitionWorker(connection, client, keyspace, partition, "d-slow-1", { config });
    cleanup.push(() => first.stop());
    const park = first.scripts.park("rk-slow-takeover");
    // Stopped while its park list holds the overflow and later jobs are still pending in the stream.
    await waitFor("overflow parked and a parked job delivered", async () => {
      return (await client.llen(park)) > 0 && sink.delivered.length >= 2;
    });
    await first.stop();
    expect(await client.xlen(first.scripts.stream)).toBeGreaterThan(0);
    const second = await startTestPartitionWorker(connection, client, keyspace, partition, "d-slow-2", { config });
    cleanup.push(() => second.stop());

    await waitFor("every job", () => new Set(sink.delivered.map((r) => r.body.toString())).size >= jobs, 60_000);
    await waitFor("no residue", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
    const got = sink.delivered.map((r) => ({ rk: "rk-slow-takeover", seq: Number(r.body.toString()) }));
    expect(orderViolations(got)).toEqual([]);
    expect(new Set(got.map((g) => g.seq)).size).toBe(jobs);
    // At most the attempt in flight at the stop is repeated.
    expect(got.length).toBeLessThanOrEqual(jobs + 1);
  });
});
