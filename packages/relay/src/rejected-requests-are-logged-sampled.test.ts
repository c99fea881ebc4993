import { RedisServer, uniquePrefix } from "@acapy-bridge/test-harness";
import { expect, it } from "vitest";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay } from "../test-fixtures/relay-harness.js";

async function messagesCounted(metrics: { getSingleMetricAsString(name: string): Promise<string> }, outcome: string) {
  const text = await metrics.getSingleMetricAsString("acapy_bridge_relay_messages_total");
  const line = text.split("\n").find((l) => l.includes(`outcome="${outcome}"`) && l.includes('transport="http"'));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

// Issue 18: one log line per rejected request (41,000 lines in 16 s during a Redis outage).
it("during a Redis outage logs the first 503 and not every one, while the metric counts each", async () => {
  const redis = await RedisServer.start();
  const t = await startTestRelay({ redisUrl: redis.url, prefix: uniquePrefix("relay-sampled") });
  try {
    await redis.kill();
    const requests = 300;
    for (let i = 0; i < requests; i += 30) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, () =>
          fetch(t.url, {
            method: "POST",
            headers: { "content-type": "application/didcomm-envelope-enc" },
            body: fakeJwe(randomVerkey(), "Anoncrypt"),
          }),
        ),
      );
      for (const answer of answers) expect(answer.status).toBe(503);
    }
    expect(await messagesCounted(t.metrics, "redis_unavailable")).toBe(requests);
    const lines = t.logs.filter((l) => l.event === "relay.redis_unavailable");
    expect(lines.length).toBeGreaterThanOrEqual(1);
    // The first line, and at most one summary if the run crossed a 10 s interval.
    expect(lines.length).toBeLessThanOrEqual(2);
    // At shutdown the summary still waiting is written: every rejection is accounted for,
    // a line written one by one as 1, a summary line as the count it stands for.
    await t.relay.stop();
    const after = t.logs.filter((l) => l.event === "relay.redis_unavailable");
    const accounted = after.reduce((sum, l) => sum + (typeof l.suppressed === "number" ? l.suppressed : 1), 0);
    expect(accounted).toBe(requests);
  } finally {
    await t.relay.stop();
    await redis.stop();
  }
}, 60_000);
