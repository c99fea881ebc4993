import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PartitionScripts } from "./partition-scripts.js";
import { RetryScheduler } from "./retry-scheduler.js";

/** Counts the due-recipient queries; answers with `due` (a unit-test stand-in for the partition's retry zset). */
function countingScripts(due: string[] = []) {
  const calls = { count: 0 };
  const scripts = {
    dueRecipients: async () => {
      calls.count++;
      return due;
    },
  } as unknown as PartitionScripts;
  return { scripts, calls };
}

// Time is what these tests are about: fake timers (and a fake clock) make "every 10 ms" exact,
// whatever the load on the machine.
describe("retry scheduler", () => {
  let scheduler: RetryScheduler | undefined;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    scheduler?.stop();
    vi.useRealTimers();
  });

  it("does not query the retry schedule every poll while nothing is parked, only once at start", async () => {
    const { scripts, calls } = countingScripts();
    scheduler = new RetryScheduler({ scripts, pollMs: 10, hasParked: () => false, onDue: () => {}, onError: () => {} });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(120);
    expect(calls.count).toBe(1);
  });

  it("polls every interval while recipients are parked and hands over the due ones", async () => {
    const { scripts, calls } = countingScripts(["rk-1"]);
    const due: string[] = [];
    scheduler = new RetryScheduler({
      scripts,
      pollMs: 10,
      hasParked: () => true,
      onDue: (rk) => due.push(rk),
      onError: () => {},
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(120);
    expect(calls.count).toBeGreaterThanOrEqual(5);
    expect(new Set(due)).toEqual(new Set(["rk-1"]));
  });

  it("looks at the schedule at a due time it was given even while nothing is parked", async () => {
    const { scripts, calls } = countingScripts();
    scheduler = new RetryScheduler({ scripts, pollMs: 10, hasParked: () => false, onDue: () => {}, onError: () => {} });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(30);
    scheduler.wakeAt(Date.now() + 20);
    await vi.advanceTimersByTimeAsync(60);
    expect(calls.count).toBe(2);
  });
});
