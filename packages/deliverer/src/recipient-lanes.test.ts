import { describe, expect, it } from "vitest";
import { RecipientLanes } from "./recipient-lanes.js";

/** Lets other tasks run before this one goes on (a turn of the event loop). */
const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

describe("recipient lanes", () => {
  it("runs one recipient's tasks in order and different recipients in parallel", async () => {
    const lanes = new RecipientLanes(() => {});
    const log: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    // Recipient a is slow: its first task finishes only once b and c have finished all of theirs
    // (if lanes held each other up, that would never happen and the test would time out).
    let releaseSlowRecipient = () => {};
    const othersDone = new Promise<void>((r) => {
      releaseSlowRecipient = r;
    });
    for (let i = 0; i < 5; i++) {
      for (const rk of ["a", "b", "c"]) {
        lanes.push(rk, async () => {
          concurrent++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          await (rk === "a" && i === 0 ? othersDone : yieldTurn());
          log.push(`${rk}${i}`);
          if (log.includes("b4") && log.includes("c4")) releaseSlowRecipient();
          concurrent--;
        });
      }
    }
    await lanes.idle();
    for (const rk of ["a", "b", "c"]) {
      expect(log.filter((l) => l.startsWith(rk))).toEqual([0, 1, 2, 3, 4].map((i) => `${rk}${i}`));
    }
    expect(maxConcurrent).toBe(3);
    // b and c finished long before a: a slow recipient holds up nobody else.
    expect(log.indexOf("c4")).toBeLessThan(log.indexOf("a1"));
  });

  it("keeps a lane going after a task fails", async () => {
    const errors: unknown[] = [];
    const lanes = new RecipientLanes((e) => errors.push(e));
    const done: number[] = [];
    lanes.push("x", async () => {
      throw new Error("boom");
    });
    lanes.push("x", async () => {
      done.push(2);
    });
    await lanes.idle();
    expect(errors).toHaveLength(1);
    expect(done).toEqual([2]);
  });

  it("names the recipient with the most tasks queued or running, and none once all are done", async () => {
    const lanes = new RecipientLanes(() => undefined);
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const [rk, count] of [
      ["a", 1],
      ["b", 3],
      ["c", 2],
    ] as const) {
      for (let i = 0; i < count; i++) lanes.push(rk, () => gate);
    }
    expect(lanes.busiest()).toEqual({ key: "b", tasks: 3 });
    release();
    await lanes.idle();
    expect(lanes.busiest()).toBeUndefined();
  });
});
