import { describe, expect, it } from "vitest";
import { KeyedSemaphore, Semaphore } from "./concurrency-limit.js";

describe("Semaphore", () => {
  it("lets `limit` holders in and hands released slots to waiters in arrival order", async () => {
    const semaphore = new Semaphore(2);
    expect(semaphore.tryTake()).toBe(true);
    expect(semaphore.tryTake()).toBe(true);
    expect(semaphore.tryTake()).toBe(false);
    const served: string[] = [];
    const first = semaphore.take().then(() => served.push("first"));
    const second = semaphore.take().then(() => served.push("second"));
    expect(semaphore.waiting).toBe(2);
    semaphore.release();
    await first;
    expect(served).toEqual(["first"]);
    expect(semaphore.inUse).toBe(2); // handed over, not freed
    semaphore.release();
    await second;
    expect(served).toEqual(["first", "second"]);
    semaphore.release();
    semaphore.release();
    expect(semaphore.inUse).toBe(0);
  });
});

describe("KeyedSemaphore", () => {
  it("limits each key on its own and forgets a key once it is idle", async () => {
    const byOrigin = new KeyedSemaphore(1);
    expect(byOrigin.tryTake("http://a")).toBe(true);
    expect(byOrigin.tryTake("http://a")).toBe(false);
    expect(byOrigin.tryTake("http://b")).toBe(true);
    let waited = false;
    const waiting = byOrigin.take("http://a").then(() => {
      waited = true;
    });
    byOrigin.release("http://a");
    await waiting;
    expect(waited).toBe(true);
    expect(byOrigin.inUse("http://a")).toBe(1);
    byOrigin.release("http://a");
    byOrigin.release("http://b");
    expect(byOrigin.inUse("http://a")).toBe(0);
    expect(byOrigin.tryTake("http://a")).toBe(true); // a fresh semaphore for a forgotten key
  });
});
