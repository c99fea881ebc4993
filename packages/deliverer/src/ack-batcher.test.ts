import type { RedisClient } from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AckAbandonedError, AckBatcher } from "./ack-batcher.js";
import { FencedError, type PartitionScripts } from "./partition-scripts.js";

/** A partition whose fenced ack script answers as `answer` says, recording every call's ids. */
function partition(partitionNumber: number, answer: (call: number) => "ok" | "redis-error" | "fenced") {
  const calls: string[][] = [];
  const scripts = {
    partition: partitionNumber,
    ack: async (ids: string[]) => {
      calls.push(ids);
      const verdict = answer(calls.length);
      if (verdict === "redis-error") throw new Error("Connection is closed.");
      if (verdict === "fenced") throw new FencedError(partitionNumber);
    },
  } as unknown as PartitionScripts;
  return { scripts, calls };
}

const standalone = { isCluster: false, status: "end" } as unknown as RedisClient;

describe("AckBatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a failed call's ids again ahead of those that gathered behind them, and resolves them all", async () => {
    const p = partition(0, (call) => (call === 1 ? "redis-error" : "ok"));
    const retries: number[] = [];
    const acks = new AckBatcher(standalone, (_error, _partition, delayMs) => retries.push(delayMs));
    const first = [acks.ack(p.scripts, "1-0"), acks.ack(p.scripts, "2-0")];
    await waitFor("the first call to have failed", () => retries.length === 1, 5_000, 1);
    const later = acks.ack(p.scripts, "3-0");
    await Promise.all([...first, later]);
    expect(p.calls).toEqual([
      ["1-0", "2-0"],
      ["1-0", "2-0", "3-0"],
    ]);
    expect(retries).toEqual([100]);
  });

  it("holds back only the failing partition: the others keep being acknowledged meanwhile", async () => {
    const failing = partition(0, () => "redis-error");
    const healthy = partition(1, () => "ok");
    const failed: number[] = [];
    const acks = new AckBatcher(standalone, (_error, scripts) => failed.push(scripts.partition));
    void acks.ack(failing.scripts, "1-0").catch(() => undefined);
    await waitFor("the failing partition's call to have failed", () => failed.length === 1, 5_000, 1);
    await acks.ack(healthy.scripts, "5-0");
    expect(healthy.calls).toEqual([["5-0"]]);
    expect(failing.calls).toEqual([["1-0"]]); // still in its backoff, not sent twice
    acks.close();
  });

  it("rejects with FencedError when the lease is gone, and with AckAbandonedError what still waits at close", async () => {
    const fenced = partition(0, () => "fenced");
    const down = partition(1, () => "redis-error");
    const retried: number[] = [];
    const acks = new AckBatcher(standalone, (_error, scripts) => retried.push(scripts.partition));
    const lost = acks.ack(fenced.scripts, "1-0");
    const waiting = acks.ack(down.scripts, "2-0");
    await expect(lost).rejects.toBeInstanceOf(FencedError);
    await waitFor("the call for the partition whose Redis is down to have failed", () => retried.includes(1), 5_000, 1);
    acks.close();
    await expect(waiting).rejects.toBeInstanceOf(AckAbandonedError);
    await expect(acks.ack(down.scripts, "3-0")).rejects.toBeInstanceOf(AckAbandonedError);
  });

  it("lets a trickle of acknowledgements wait up to the linger so that they share one call", async () => {
    // The linger is what this test is about: fake timers make "10 ms later, still within 40 ms" exact.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const p = partition(0, () => "ok");
    const acks = new AckBatcher(standalone, () => {}, 40);
    const first = acks.ack(p.scripts, "1-0");
    await vi.advanceTimersByTimeAsync(10);
    const second = acks.ack(p.scripts, "2-0");
    expect(p.calls).toEqual([]); // still lingering
    await vi.advanceTimersByTimeAsync(30);
    await Promise.all([first, second]);
    expect(p.calls).toEqual([["1-0", "2-0"]]);
  });

  it("sends at once, without lingering, once many acknowledgements are waiting", async () => {
    const p = partition(0, () => "ok");
    const acks = new AckBatcher(standalone, () => {}, 60_000);
    const ids = Array.from({ length: 64 }, (_, i) => `${i + 1}-0`);
    const started = performance.now();
    await Promise.all(ids.map((id) => acks.ack(p.scripts, id)));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(p.calls).toEqual([ids]);
  });
});
