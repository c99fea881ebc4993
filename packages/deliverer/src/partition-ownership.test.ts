import { lua } from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
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
import { rendezvousOwner } from "./partition-ownership.js";
import { FencedError, PartitionScripts } from "./partition-scripts.js";

describe("partition ownership", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("rendezvous hashing moves only the partitions of a member that leaves or joins", () => {
    const members = ["a", "b", "c"];
    const before = Array.from({ length: 64 }, (_, p) => rendezvousOwner(members, p));
    const after = Array.from({ length: 64 }, (_, p) => rendezvousOwner(["a", "c"], p));
    for (let p = 0; p < 64; p++) if (before[p] !== "b") expect(after[p]).toBe(before[p]);
    expect(new Set(before).size).toBe(3);
  });

  it("splits the partitions between two deliverers with one lease holder each, and hands over on a graceful stop", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("own"));
    const sink = await RecordingSink.start();
    cleanup.push(() => sink.close());
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const a = (await startTestDeliverer(connection, "d-own-a")).deliverer;
    cleanup.push(() => a.stop());
    await waitFor("a owns all", () => a.ownedPartitions().length === 8, 10_000);
    const b = (await startTestDeliverer(connection, "d-own-b")).deliverer;
    cleanup.push(() => b.stop());
    await waitFor(
      "a and b split the partitions",
      () =>
        a.ownedPartitions().length + b.ownedPartitions().length === 8 &&
        b.ownedPartitions().length > 0 &&
        a.ownedPartitions().length > 0,
      10_000,
    );
    expect(a.ownedPartitions().filter((p) => b.ownedPartitions().includes(p))).toEqual([]);
    for (let partition = 0; partition < 8; partition++) {
      const holder = await client.get(keyspace.key("outboundLease", { partition }));
      const expected = a.ownedPartitions().includes(partition) ? "d-own-a:" : "d-own-b:";
      expect(holder?.startsWith(expected)).toBe(true);
    }

    // Graceful stop releases the leases at once: a takes over well within the lease TTL.
    const stoppedAt = Date.now();
    await b.stop();
    await waitFor("a owns all again", () => a.ownedPartitions().length === 8, 10_000);
    expect(Date.now() - stoppedAt).toBeLessThan(1_900);
    for (let i = 0; i < 20; i++) {
      await enqueueJob(client, keyspace, makeJob({ recipientKey: `rk-own-${i}`, endpoint: `${sink.url}/x` }));
    }
    await waitFor("deliveries", () => sink.delivered.length >= 20, 10_000);
  });

  it("fences a previous owner: its late transitions change nothing", async () => {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix("fence"));
    const { client, keyspace } = await openRedis(connection);
    cleanup.push(() => closeRedisClient(client));
    const lease = keyspace.key("outboundLease", { partition: 0 });
    expect(await lua.leaseAcquire(client, { lease, owner: "old:1", ttlMs: 60_000 })).toEqual(["OK"]);
    // The lease moves on (expired and taken by another deliverer).
    await client.del(lease);
    expect(await lua.leaseAcquire(client, { lease, owner: "new:2", ttlMs: 60_000 })).toEqual(["OK"]);
    expect(await lua.leaseAcquire(client, { lease, owner: "old:1", ttlMs: 60_000 })).toEqual(["HELD", "new:2"]);
    expect(await lua.leaseRenew(client, { lease, owner: "old:1", ttlMs: 60_000 })).toBe(0);
    expect(await lua.leaseRelease(client, { lease, owner: "old:1" })).toBe(0);
    const stale = new PartitionScripts(client, keyspace, 0, "old:1", 0);
    await expect(stale.ack(["1-1"])).rejects.toBeInstanceOf(FencedError);
    await expect(stale.defer("1-1", "rk", new Uint8Array([1]), Date.now())).rejects.toBeInstanceOf(FencedError);
    await expect(stale.retryOk("rk", undefined)).rejects.toBeInstanceOf(FencedError);
    await expect(stale.buryEntry("1-1", new Uint8Array([1]))).rejects.toBeInstanceOf(FencedError);
    expect(await client.exists(stale.park("rk"), stale.retry, stale.deadLetters)).toBe(0);
    expect(await client.get(lease)).toBe("new:2");
  });
});
