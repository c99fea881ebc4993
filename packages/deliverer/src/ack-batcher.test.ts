import type { RedisClient } from "@acapy-bridge/protocol";
import { describe, expect, it } from "vitest";
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
  it("sends a failed call's ids again ahead of those that gathered behind them, and resolves them all", async () => {
    const p = partition(0, (call) => (call === 1 ? "redis-error" : "ok"));
    const retries: number[] = [];
    const acks = new AckBatcher(standalone, (_error, _partition, delayMs) => retries.push(delayMs));
    const first = [acks.ack(p.scripts, "1-0"), acks.ack(p.scripts, "2-0")];
    await new Promise((r) => setTimeout(r, 10)); // the first call has failed by now
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
    const acks = new AckBatcher(standalone);
    void acks.ack(failing.scripts, "1-0").catch(() => undefined);
    await new Promise((r) => setTimeout(r, 10));
    await acks.ack(healthy.scripts, "5-0");
    expect(healthy.calls).toEqual([["5-0"]]);
    expect(failing.calls).toEqual([["1-0"]]); // still in its backoff, not sent twice
    acks.close();
  });

  it("rejects with FencedError when the lease is gone, and with AckAbandonedError what still waits at close", async () => {
    const fenced = partition(0, () => "fenced");
    const down = partition(1, () => "redis-error");
    const acks = new AckBatcher(standalone);
    const lost = acks.ack(fenced.scripts, "1-0");
    const waiting = acks.ack(down.scripts, "2-0");
    await expect(lost).rejects.toBeInstanceOf(FencedError);
    await new Promise((r) => setTimeout(r, 10));
    acks.close();
    await expect(waiting).rejects.toBeInstanceOf(AckAbandonedError);
    await expect(acks.ack(down.scripts, "3-0")).rejects.toBeInstanceOf(AckAbandonedError);
  });

  it("lets a trickle of acknowledgements wait up to the linger so that they share one call", async () => {
    const p = partition(0, () => "ok");
    const acks = new AckBatcher(standalone, () => {}, 40);
    const first = acks.ack(p.scripts, "1-0");
    await new Promise((r) => setTimeout(r, 10));
    const second = acks.ack(p.scripts, "2-0");
    expect(p.calls).toEqual([]); // still lingering
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
