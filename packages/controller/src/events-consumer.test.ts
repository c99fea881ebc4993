import { createMetricsRegistry } from "@acapy-bridge/operability";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  ensureTopology,
  type Keyspace,
  partitionOf,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { holdStill, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { appendEvent } from "../test-fixtures/shim-events.js";
import type { ControllerEvent } from "./controller-event.js";
import { EventsConsumer, type EventsConsumerOptions, type GivenUpEvent } from "./events-consumer.js";

const EVENT_PARTITIONS = 4;

for (const mode of ["standalone", "cluster"] as const) {
  describe(`EventsConsumer on ${mode} Redis`, () => {
    const redis = () => ({
      url: mode === "cluster" ? inject("redisClusterUrl") : inject("redisUrl"),
      cluster: mode === "cluster",
    });
    let client: RedisClient;
    const running: EventsConsumer[] = [];

    beforeAll(async () => {
      client = createRedisClient(redis(), "commands");
      await waitUntilReady(client);
    });
    afterEach(async () => {
      await Promise.all(running.splice(0).map((c) => c.stop()));
    });
    afterAll(async () => {
      await closeRedisClient(client);
    });

    async function deployment(): Promise<{ prefix: string; keyspace: Keyspace }> {
      const prefix = uniquePrefix("controller");
      const keyspace = await ensureTopology(client, prefix, {
        ...DEFAULT_PARTITIONS,
        eventPartitions: EVENT_PARTITIONS,
      });
      return { prefix, keyspace };
    }

    async function started(
      options: Omit<EventsConsumerOptions, "redis" | "group"> & { group?: string },
    ): Promise<EventsConsumer> {
      const consumer = new EventsConsumer({ redis: redis(), group: "app", blockMs: 200, ...options });
      await consumer.start();
      running.push(consumer);
      return consumer;
    }

    async function pendingCount(keyspace: Keyspace, group = "app"): Promise<number> {
      let total = 0;
      for (const stream of keyspace.allPartitions("events")) {
        total += Number(((await client.xpending(stream, group)) as [number])[0]);
      }
      return total;
    }

    it("two instances of one group share the events: each event is handled once, by one of them", async () => {
      const { prefix, keyspace } = await deployment();
      const handledBy = new Map<string, string[]>();
      const record = (who: string) => async (event: ControllerEvent) => {
        handledBy.set(event.mid, [...(handledBy.get(event.mid) ?? []), who]);
      };
      await started({ prefix, consumer: "a", handler: record("a") });
      await started({ prefix, consumer: "b", handler: record("b") });
      const mids: string[] = [];
      for (let i = 0; i < 80; i++) {
        mids.push((await appendEvent(client, keyspace, { orderingKey: `webhook:conn-${i % 16}`, payload: { i } })).mid);
      }
      await waitFor(`80 events handled (${handledBy.size} so far)`, () => handledBy.size === 80);
      expect([...handledBy.keys()].sort()).toEqual([...mids].sort());
      expect([...handledBy.values()].filter((who) => who.length > 1)).toEqual([]);
      const byA = [...handledBy.values()].filter((who) => who[0] === "a").length;
      expect(byA).toBeGreaterThan(0);
      expect(byA).toBeLessThan(80);
      await waitFor("no event pending", async () => (await pendingCount(keyspace)) === 0);
    });

    it("acknowledges an event only after its handler resolved", async () => {
      const { prefix, keyspace } = await deployment();
      let release: () => void = () => undefined;
      const handlerMayFinish = new Promise<void>((r) => {
        release = r;
      });
      let entered = false;
      await started({
        prefix,
        handler: async () => {
          entered = true;
          await handlerMayFinish;
        },
      });
      await appendEvent(client, keyspace, { orderingKey: "webhook:one", payload: {} });
      await waitFor("handler entered", () => entered);
      expect(await pendingCount(keyspace)).toBe(1);
      release();
      await waitFor("event acknowledged", async () => (await pendingCount(keyspace)) === 0);
    });

    it("retries a failed handler before the next event of its partition, so one ordering key keeps its order", async () => {
      const { prefix, keyspace } = await deployment();
      const seen: string[] = [];
      let failedOnce = false;
      await started({
        prefix,
        retryDelayMs: 50,
        handler: async (event) => {
          const n = (event.payload as { n: string }).n;
          seen.push(`${n}@${event.attempt}`);
          if (n === "e3" && !failedOnce) {
            failedOnce = true;
            throw new Error("controller's database is away");
          }
        },
      });
      for (const n of ["e1", "e2", "e3", "e4", "e5"]) {
        await appendEvent(client, keyspace, { orderingKey: "webhook:ordered", payload: { n } });
      }
      await waitFor(`all five handled (${seen.join(",")})`, () => seen.includes("e5@1"));
      expect(seen).toEqual(["e1@1", "e2@1", "e3@1", "e3@2", "e4@1", "e5@1"]);
      await waitFor("no event pending", async () => (await pendingCount(keyspace)) === 0);
    });

    it("gives an event up after maxAttempts (logged, counted, acknowledged) and goes on with the next", async () => {
      const { prefix, keyspace } = await deployment();
      const registry = createMetricsRegistry({});
      const givenUp: GivenUpEvent[] = [];
      const handled: string[] = [];
      await started({
        prefix,
        maxAttempts: 3,
        retryDelayMs: 20,
        metrics: registry,
        onGiveUp: (g) => {
          givenUp.push(g);
        },
        handler: async (event) => {
          const n = (event.payload as { n: string }).n;
          if (n === "poison") throw new Error("cannot handle this one");
          handled.push(n);
        },
      });
      await appendEvent(client, keyspace, { orderingKey: "webhook:k", payload: { n: "poison" } });
      await appendEvent(client, keyspace, { orderingKey: "webhook:k", payload: { n: "next" } });
      await waitFor("the next event handled", () => handled.includes("next"));
      expect(givenUp.map((g) => [g.reason, g.attempts, g.error.message])).toEqual([
        ["attempts_exhausted", 3, "cannot handle this one"],
      ]);
      // It stays readable where the log line says, for an operator to replay.
      const [entry] = (await client.xrange(givenUp[0]?.stream as string, givenUp[0]?.entryId as string, "+")) as [
        string,
        string[],
      ][];
      expect(entry?.[0]).toBe(givenUp[0]?.entryId);
      const metrics = await registry.metrics();
      expect(metrics).toMatch(/acapy_bridge_controller_events_total\{group="app",outcome="given_up"\} 1/);
      expect(metrics).toMatch(/acapy_bridge_controller_events_total\{group="app",outcome="failed_attempt"\} 3/);
      await waitFor("no event pending", async () => (await pendingCount(keyspace)) === 0);
    });

    it("takes over the events a crashed instance left pending, once they have been idle for claimIdleMs", async () => {
      const { prefix, keyspace } = await deployment();
      // A consumer that read events and died before acknowledging them.
      const crashed = await started({ prefix, consumer: "crashed", handler: async () => undefined });
      await crashed.stop();
      running.splice(running.indexOf(crashed), 1);
      const key = "webhook:left-behind";
      const stream = keyspace.key("events", { partition: partitionOf(key, EVENT_PARTITIONS) });
      const { mid } = await appendEvent(client, keyspace, { orderingKey: key, payload: {} });
      await client.xreadgroup("GROUP", "app", "crashed", "COUNT", 10, "STREAMS", stream, ">");
      expect(await pendingCount(keyspace)).toBe(1);

      const handled: ControllerEvent[] = [];
      const startedAt = Date.now();
      await started({
        prefix,
        consumer: "survivor",
        claimIdleMs: 500,
        handler: async (event) => {
          handled.push(event);
        },
      });
      await waitFor("the left-behind event handled", () => handled.length === 1, 10_000);
      expect(handled[0]?.mid).toBe(mid);
      expect(handled[0]?.attempt).toBe(2);
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(400);
      await waitFor("no event pending", async () => (await pendingCount(keyspace)) === 0);
    });

    it("does not let another instance take over an event whose handler is still running past claimIdleMs", async () => {
      const { prefix, keyspace } = await deployment();
      const handledBy: string[] = [];
      let entered = false;
      await started({
        prefix,
        consumer: "slow",
        claimIdleMs: 300,
        handler: async () => {
          entered = true;
          await holdStill(1_500, "the handler runs five claim idle times; the other instance must not take it over");
          handledBy.push("slow");
        },
      });
      await appendEvent(client, keyspace, { orderingKey: "webhook:slow", payload: {} });
      await waitFor("slow handler entered", () => entered);
      await started({ prefix, consumer: "other", claimIdleMs: 300, handler: async () => void handledBy.push("other") });
      await waitFor("slow handler done", () => handledBy.length > 0, 5_000);
      await holdStill(400, "a takeover, had it happened, would show up now");
      expect(handledBy).toEqual(["slow"]);
    });

    it("ordered: two instances split the partitions; each ordering key's events are handled in order across them, also when one stops mid-stream and the other takes its partitions over", async () => {
      const { prefix, keyspace } = await deployment();
      const handled: { who: string; key: string; i: number }[] = [];
      const record = (who: string) => async (event: ControllerEvent) => {
        await new Promise((r) => setTimeout(r, 2));
        handled.push({ who, key: event.orderingKey, i: (event.payload as { i: number }).i });
      };
      const fast = { ordered: true, leaseTtlMs: 1_000, heartbeatMs: 100, deadAfterMs: 1_000 };
      const a = await started({ prefix, consumer: "a", handler: record("a"), ...fast });
      const b = await started({ prefix, consumer: "b", handler: record("b"), ...fast });
      await waitFor(
        () => `partitions split (a ${a.handledPartitions}, b ${b.handledPartitions})`,
        () => a.handledPartitions.length === 2 && b.handledPartitions.length === 2,
      );
      const total = 200;
      const producing = (async () => {
        for (let i = 0; i < total; i++) {
          await appendEvent(client, keyspace, { orderingKey: `webhook:conn-${i % 12}`, payload: { i } });
        }
      })();
      await waitFor("a handled some", () => handled.filter((h) => h.who === "a").length >= 20);
      await a.stop();
      running.splice(running.indexOf(a), 1);
      await producing;
      await waitFor(`${total} handled (${handled.length})`, () => handled.length >= total);
      await waitFor("b owns every partition", () => b.handledPartitions.length === EVENT_PARTITIONS);
      expect(new Set(handled.map((h) => h.i)).size).toBe(total);
      const byKey = new Map<string, number[]>();
      for (const h of handled) byKey.set(h.key, [...(byKey.get(h.key) ?? []), h.i]);
      for (const [key, sequence] of byKey) expect(sequence, key).toEqual([...sequence].sort((x, y) => x - y));
    });

    it("refuses to start, naming the key, when the deployment has written no topology yet", async () => {
      const consumer = new EventsConsumer({
        redis: redis(),
        prefix: uniquePrefix("nothing"),
        group: "app",
        handler: async () => undefined,
      });
      await expect(consumer.start()).rejects.toThrow(/no topology at .*:\{ctl\}:topology/);
    });

    it("ordered: refuses at start a group name that cannot be part of a key", async () => {
      const { prefix } = await deployment();
      const consumer = new EventsConsumer({
        redis: redis(),
        prefix,
        group: "my app",
        ordered: true,
        handler: async () => undefined,
      });
      await expect(consumer.start()).rejects.toThrow(/role/);
    });

    it("hands the handler only events matching the filter (topic, webhook topic, wallet id) and acknowledges the rest", async () => {
      const { prefix, keyspace } = await deployment();
      const handled: string[] = [];
      await started({
        prefix,
        filter: { topics: [/^acapy::record::connections::/], walletIds: ["tenant-1"] },
        handler: async (event) => {
          handled.push((event.payload as { n: string }).n);
        },
      });
      const connections = { topic: "acapy::record::connections::active", webhookTopic: "connections" };
      await appendEvent(client, keyspace, {
        ...connections,
        walletId: "tenant-1",
        orderingKey: "k1",
        payload: { n: "wanted" },
      });
      await appendEvent(client, keyspace, {
        ...connections,
        walletId: "tenant-2",
        orderingKey: "k2",
        payload: { n: "other wallet" },
      });
      await appendEvent(client, keyspace, { walletId: "tenant-1", orderingKey: "k3", payload: { n: "other topic" } });
      await appendEvent(client, keyspace, {
        ...connections,
        walletId: "tenant-1",
        orderingKey: "k4",
        payload: { n: "last" },
      });
      await waitFor("last handled", () => handled.includes("last"));
      await waitFor("nothing pending", async () => (await pendingCount(keyspace)) === 0);
      expect(handled.sort()).toEqual(["last", "wanted"]);

      const byWebhookTopic: string[] = [];
      await started({
        prefix,
        group: "basicmessages-only",
        startAt: "beginning",
        filter: { webhookTopics: ["basicmessages"] },
        handler: async (event) => void byWebhookTopic.push((event.payload as { n: string }).n),
      });
      await waitFor("other group caught up", async () => byWebhookTopic.length === 1);
      expect(byWebhookTopic).toEqual(["other topic"]);
    });
  });
}
