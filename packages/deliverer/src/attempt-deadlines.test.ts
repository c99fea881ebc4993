import { afterEach, describe, expect, it, vi } from "vitest";
import { AttemptDeadlines } from "./attempt-deadlines.js";

describe("attempt deadlines", () => {
  let deadlines: AttemptDeadlines | undefined;
  afterEach(() => {
    deadlines?.close();
    vi.useRealTimers();
  });

  it("expires attempts still open at their deadline, in order, and never settled ones", async () => {
    // Time is what this test is about: the fake clock makes "not at 20 ms, by 100 ms" exact under any load.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "performance"] });
    deadlines = new AttemptDeadlines(60, 5);
    const expired: string[] = [];
    const first = deadlines.start(() => expired.push("first"));
    deadlines.start(() => expired.push("second"));
    const settledEarly = deadlines.start(() => expired.push("settled"));
    settledEarly.settle();
    expect(deadlines.pending).toBe(2);
    await vi.advanceTimersByTimeAsync(20);
    expect(expired).toEqual([]);
    await vi.advanceTimersByTimeAsync(80);
    expect(expired).toEqual(["first", "second"]);
    expect(deadlines.pending).toBe(0);
    first.settle(); // after expiry: nothing happens
    expect(deadlines.pending).toBe(0);
  });

  it("keeps few settled attempts in memory behind one that stays open", () => {
    deadlines = new AttemptDeadlines(60_000);
    const expired: number[] = [];
    deadlines.start(() => expired.push(-1)); // open for the whole test
    for (let i = 0; i < 20_000; i++) deadlines.start(() => expired.push(i)).settle();
    expect(deadlines.pending).toBe(1);
    expect((deadlines as unknown as { queue: unknown[] }).queue.length).toBeLessThan(5_000);
    deadlines.expireOverdue(performance.now() + 120_000);
    expect(expired).toEqual([-1]);
  });
});
