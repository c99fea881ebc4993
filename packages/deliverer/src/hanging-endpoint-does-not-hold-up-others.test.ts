import { DeadLetterReason } from "@acapy-bridge/protocol";
import { holdStill, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  makeJob,
  openRedis,
  RecordingSink,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { readOutboundDeadLetters } from "./dead-letters.js";

/** The healthy sender's pace, about one message per 10 ms: a steady load is the setting, no race is timed. */
const nextMessageAfter = (ms: number) => holdStill(ms, "paces the healthy sender");

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

// Issue 4, "Done when" 3: an endpoint that never answers ends in the dead letters
// with the reason, and other recipients' latency stays low meanwhile (measured).
describe("an endpoint that never answers", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("dead-letters its messages with the timeout as reason while other recipients keep flowing", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("hang"));
    const healthy = await RecordingSink.start();
    const silent = await RecordingSink.start(() => "hang");
    cleanup.push(
      () => healthy.close(),
      () => silent.close(),
    );
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    // Few global slots: the per-endpoint limit is what keeps some for the healthy endpoint.
    const { deliverer } = await startTestDeliverer(connection, "d-hang", {
      concurrency: 8,
      endpointConcurrency: 4,
      totalTimeoutMs: 500,
      maxAttempts: 2,
    });
    cleanup.push(() => deliverer.stop());

    let seq = 0;
    const sendHealthy = async (phase: string) => {
      const rk = `rk-ok-${seq % 16}`;
      await enqueueJob(
        client,
        keyspace,
        makeJob({
          recipientKey: rk,
          endpoint: `${healthy.url}/ok`,
          contentType: "application/json",
          body: Buffer.from(JSON.stringify({ phase, seq: seq++, sent: Date.now() })),
        }),
      );
    };
    // Before the incident.
    for (let i = 0; i < 50; i++) {
      await sendHealthy("before");
      await nextMessageAfter(10);
    }
    // The incident: 16 messages to 8 recipients behind an endpoint that accepts and never answers.
    const hanging = [];
    for (let i = 0; i < 16; i++) {
      const job = makeJob({ recipientKey: `rk-silent-${i % 8}`, endpoint: `${silent.url}/never` });
      hanging.push(job);
      await enqueueJob(client, keyspace, job);
    }
    const incidentStart = Date.now();
    let during = 0;
    while (Date.now() - incidentStart < 3_000) {
      await sendHealthy("during");
      during++;
      await nextMessageAfter(10);
    }
    await waitFor("healthy deliveries", () => healthy.delivered.length >= 50 + during, 10_000);
    const latency = (phase: string) =>
      healthy.delivered
        .map((r) => ({ ...(JSON.parse(r.body.toString()) as { phase: string; sent: number }), at: r.at }))
        .filter((r) => r.phase === phase)
        .map((r) => r.at - r.sent);
    const before = latency("before");
    const duringLatency = latency("during");
    const figures = {
      beforeP50: percentile(before, 50),
      beforeP99: percentile(before, 99),
      duringP50: percentile(duringLatency, 50),
      duringP99: percentile(duringLatency, 99),
      duringCount: duringLatency.length,
      silentAttemptsSoFar: silent.received.length,
    };
    console.log(`[hanging endpoint] healthy latency ms: ${JSON.stringify(figures)}`);
    // The silent endpoint was busy (stuck) during the whole window...
    expect(silent.received.length).toBeGreaterThanOrEqual(4);
    // ...and the healthy recipients did not wait for its 500 ms timeouts.
    expect(figures.duringP99).toBeLessThan(400);

    const letters = await waitFor(
      "16 dead letters",
      async () => {
        const all = await readOutboundDeadLetters(client, keyspace);
        return all.length >= 16 ? all : undefined;
      },
      30_000,
    );
    for (const job of hanging) {
      const letter = letters.find((l) => l.letter.mid === job.mid)?.letter;
      expect(letter).toMatchObject({ reason: DeadLetterReason.ATTEMPTS_EXHAUSTED, attempts: 2 });
      expect(letter?.detail).toContain("TIMEOUT");
    }
    // Every silent message was tried exactly maxAttempts times, none more.
    expect(silent.received.length).toBe(32);
  });
});
