import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "./logger.js";
import { SampledLog } from "./sampled-log.js";

function captured() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    component: "test",
    instance: "t",
    destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  return { logger, lines };
}

describe("sampled log lines", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes the first line of a kind, then one summary per interval with the count left out", () => {
    vi.useFakeTimers();
    const { logger, lines } = captured();
    const sampled = new SampledLog(logger, 10_000);
    for (let i = 0; i < 41_000; i++) {
      sampled.error("redis_unavailable", { event: "relay.redis_unavailable", mid: `m${i}` }, "answered 503");
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ event: "relay.redis_unavailable", mid: "m0", level: "error" });

    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ event: "relay.redis_unavailable", suppressed: 40_999, sampleIntervalMs: 10_000 });

    // Quiet for an interval: nothing more; the next event is written at once.
    vi.advanceTimersByTime(30_000);
    expect(lines).toHaveLength(2);
    sampled.error("redis_unavailable", { event: "relay.redis_unavailable", mid: "later" }, "answered 503");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ mid: "later" });
    expect(lines[2]?.suppressed).toBeUndefined();
  });

  it("samples each kind on its own", () => {
    vi.useFakeTimers();
    const { logger, lines } = captured();
    const sampled = new SampledLog(logger, 10_000);
    for (let i = 0; i < 5; i++) {
      sampled.warn("busy", { event: "relay.partition_full" }, "busy");
      sampled.warn("bad_request", { event: "relay.rejected", reason: "not_didcomm" }, "bad");
    }
    expect(lines.map((l) => l.event)).toEqual(["relay.partition_full", "relay.rejected"]);
    vi.advanceTimersByTime(10_000);
    expect(lines.filter((l) => l.suppressed === 4)).toHaveLength(2);
  });

  it("writes every line when the interval is 0, and flushes waiting summaries", () => {
    const { logger, lines } = captured();
    const every = new SampledLog(logger, 0);
    for (let i = 0; i < 3; i++) every.warn("k", { event: "e" }, "m");
    expect(lines).toHaveLength(3);
    const sampled = new SampledLog(logger, 60_000);
    for (let i = 0; i < 3; i++) sampled.warn("k", { event: "e2" }, "m");
    sampled.flush();
    expect(lines.filter((l) => l.event === "e2").map((l) => l.suppressed)).toEqual([undefined, 2]);
  });
});
