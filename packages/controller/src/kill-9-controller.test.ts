import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  ensureTopology,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { exited, trackChild, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { appendEvent } from "../test-fixtures/shim-events.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "../test-fixtures/recording-controller.ts");
const repoRoot = resolve(here, "../../..");

async function spawnController(env: Record<string, string>): Promise<{ child: ChildProcess; consumer: string }> {
  const child = trackChild(
    spawn(process.execPath, ["--conditions=@acapy-bridge/source", "--import", "tsx", fixture], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let output = "";
  const consumer = await new Promise<string>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`controller not ready:\n${output}`)), 30_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const ready = output.match(/\{"event":"process\.ready","consumer":"([^"]+)"\}/);
      if (ready?.[1]) {
        clearTimeout(timer);
        resolveReady(ready[1]);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`controller exited ${code}:\n${output}`)));
  });
  return { child, consumer };
}

// Issue 15, "Done when" 4: two controller instances share the events; kill -9 of one
// mid-stream loses no event. Each handled event is recorded (in Redis, before the
// handler resolves) as "<consumer> <mid>": duplicates are recognisable by mid.
describe("kill -9 of one of two controller instances", () => {
  let client: RedisClient;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    await waitUntilReady(client);
  });
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited(child);
    }
    await closeRedisClient(client);
  });

  it.each([
    ["shared partitions", false],
    ["ordered (one owner per partition)", true],
  ])(
    "%s, while events flow: every event is handled by the survivor or before the kill; a second handling is only of an event the killed instance had in hand",
    async (_mode, ordered) => {
      const prefix = uniquePrefix("ctl-kill9");
      const keyspace = await ensureTopology(client, prefix, { ...DEFAULT_PARTITIONS, eventPartitions: 4 });
      const recordKey = `${prefix}:test:handled`;
      const env = {
        REDIS_URL: inject("redisUrl"),
        PREFIX: prefix,
        GROUP: "app",
        RECORD_KEY: recordKey,
        HANDLER_DELAY_MS: "5",
        CLAIM_IDLE_MS: "1000",
        ORDERED: ordered ? "1" : "0",
      };
      const victim = await spawnController(env);
      const survivor = await spawnController(env);
      children.push(victim.child, survivor.child);

      const total = 400;
      const mids: string[] = [];
      const producing = (async () => {
        for (let i = 0; i < total; i++) {
          mids.push(
            (await appendEvent(client, keyspace, { orderingKey: `webhook:conn-${i % 24}`, payload: { i } })).mid,
          );
          if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
        }
      })();

      const records = async () =>
        ((await client.lrange(recordKey, 0, -1)) as string[]).map((line) => {
          const [consumer, mid, orderingKey, i] = line.split(" ");
          return { consumer: consumer as string, mid: mid as string, orderingKey: orderingKey as string, i: Number(i) };
        });
      await waitFor("the victim has handled some events", async () => {
        return (await records()).filter((r) => r.consumer === victim.consumer).length >= 40;
      });
      victim.child.kill("SIGKILL");
      await exited(victim.child);
      const killedAfter = (await records()).length;
      await producing;

      await waitFor(
        `all ${total} events handled`,
        async () => new Set((await records()).map((r) => r.mid)).size === total,
        30_000,
        100,
      );
      const all = await records();
      const handled = new Set(all.map((r) => r.mid));
      expect([...mids].filter((mid) => !handled.has(mid))).toEqual([]);
      expect(killedAfter).toBeLessThan(total);
      const survivorCount = all.filter((r) => r.consumer === survivor.consumer).length;

      expect(survivorCount).toBeGreaterThanOrEqual(total - killedAfter);
      const timesHandled = new Map<string, string[]>();
      for (const r of all) timesHandled.set(r.mid, [...(timesHandled.get(r.mid) ?? []), r.consumer]);
      const duplicates = [...timesHandled.entries()].filter(([, who]) => who.length > 1);
      // The victim handled these, was killed before its XACK, and the survivor took them over.
      for (const [, who] of duplicates) expect(who).toEqual([victim.consumer, survivor.consumer]);
      // Each partition is handled one event at a time: at most one event per partition was in hand.
      expect(duplicates.length).toBeLessThanOrEqual(keyspace.partitionCount("events"));
      if (ordered) {
        // One owner per partition, and the next one starts with what the previous left pending:
        // each ordering key's events are handled in order, a repeat coming right after the original.
        const byKey = new Map<string, number[]>();
        for (const r of all) byKey.set(r.orderingKey, [...(byKey.get(r.orderingKey) ?? []), r.i]);
        for (const [key, sequence] of byKey) {
          expect(sequence, key).toEqual([...sequence].sort((a, b) => a - b));
        }
      }
      console.log(
        `[kill-9 controller${ordered ? ", ordered" : ""}] ${total} events, ${killedAfter} recorded before the kill, ${survivorCount} by the survivor, ${duplicates.length} handled twice`,
      );
      await waitFor("nothing pending", async () => {
        let pending = 0;
        for (const stream of keyspace.allPartitions("events")) {
          pending += Number(((await client.xpending(stream, "app")) as [number])[0]);
        }
        return pending === 0;
      });
    },
  );
});
