import { partitionOf } from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import {
  enqueueJob,
  makeJob,
  openTestBed,
  RecordingSink,
  startTestPartitionWorker,
} from "../test-fixtures/deliverer-harness.js";

const BUFFER = 4;

/** A recipient key other than `taken` that falls in `partition`. */
function anotherKeyIn(partition: number, partitions: number, taken: string): string {
  for (let i = 0; ; i++) {
    const key = `rk-fast-${i}`;
    if (key !== taken && partitionOf(key, partitions) === partition) return key;
  }
}

// A slow but answering endpoint is never parked: its jobs keep the partition's buffer full,
// reading pauses, and every other recipient of the partition waits. The deliverer cannot tell
// "slow" from "busy", so it makes the wait visible: a warning naming the recipient, and a metric.
describe("a partition buffer filled by one slow recipient", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  });

  it("logs a warning naming that recipient and counts the seconds reading was paused", async () => {
    const bed = await openTestBed(inject("redisUrl"), "full-buffer", cleanup);
    const slow = await RecordingSink.start();
    slow.delayMs = 150;
    cleanup.push(() => slow.close());
    const partitions = bed.keyspace.partitionCount("outboundQueue");
    const slowKey = "rk-slow";
    const partition = partitionOf(slowKey, partitions);
    const fastKey = anotherKeyIn(partition, partitions, slowKey);

    const owner = await startTestPartitionWorker(bed.connection, bed.client, bed.keyspace, partition, "d-full", {
      config: { partitionBuffer: BUFFER },
    });
    cleanup.push(() => owner.stop());
    const warn = vi.spyOn(owner.services.logger, "warn");

    for (let seq = 1; seq <= 2 * BUFFER; seq++) {
      const job = makeJob({ recipientKey: slowKey, endpoint: `${slow.url}/slow`, body: Buffer.from(String(seq)) });
      await enqueueJob(bed.client, bed.keyspace, job);
    }
    await waitFor("the slow recipient's first request", () => slow.received.length >= 1, 5_000);
    const fastEnqueuedAt = Date.now();
    await enqueueJob(bed.client, bed.keyspace, makeJob({ recipientKey: fastKey, endpoint: `${bed.sink.url}/fast` }));
    await waitFor("the fast recipient's delivery", () => bed.sink.delivered.length === 1, 10_000);

    // The fast recipient was not even read until the slow one's deliveries (150 ms each) made room.
    const fastWaitedMs = (bed.sink.delivered[0]?.at as number) - fastEnqueuedAt;
    expect(fastWaitedMs).toBeGreaterThanOrEqual(100);

    const warning = warn.mock.calls
      .map(([fields]) => fields as unknown as Record<string, unknown>)
      .find((fields) => fields.event === "deliverer.partition_buffer_full");
    expect(warning).toMatchObject({ partition, buffer: BUFFER, busiestRecipient: slowKey });
    expect(warning?.held).toBeGreaterThanOrEqual(BUFFER);

    const metric = await owner.services.metrics
      .getSingleMetric("acapy_bridge_deliverer_reading_paused_seconds_total")
      ?.get();
    const paused = metric?.values.find((v) => v.labels.partition === String(partition))?.value ?? 0;
    expect(paused).toBeGreaterThan(0.1);
  });
});
