import { afterEach, describe, expect, it } from "vitest";
import { AttemptDeadlines } from "./attempt-deadlines.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("attempt deadlines", () => {
  let deadlines: AttemptDeadlines | undefined;
  afterEach(() => deadlines?.close());

  it("expires attempts still open at their deadline, in order, and never settled ones", async () => {
    deadlines = new AttemptDeadlines(60, 5);
    const expired: string[] = [];
    const first = deadlines.start(() => expired.push("first"));
    deadlines.start(() => expired.push("second"));
    const settledEarly = deadlines.start(() => expired.push("settled"));
    settledEarly.settle();
    expect(deadlines.pending).toBe(2);
    await sleep(20);
    expect(expired).toEqual([]);
    await sleep(80);
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
