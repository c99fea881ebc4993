// `npm run bench -- deliverer [--duration-ms 3000]`
//
// Deliveries/s and p50/p99 latency to a local HTTP sink at 1, 64 and 256 in
// flight, against a baseline measured in the same run: the same sink driven
// directly by a load generator (undici, keep-alive) at the same concurrency.
//
// Deliverer path: the generator keeps N jobs in flight (closed loop). Each job
// is enqueued with the shim's script (dedup marker, partition by recipient),
// read by a deliverer process (`startDeliverer` in its own Node process, as it
// is deployed), POSTed to the sink, acknowledged; a job's latency runs from
// the enqueue call to its arrival at the sink. One recipient per in-flight
// slot, so per-recipient order never serialises the load. The sink runs in a
// worker thread in both cases. The last line is one JSON object.
// Profile the deliverer with BENCH_DELIVERER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  encodeEnvelope,
  enqueueEnvelope,
  ensureTopology,
  JobKind,
  type Keyspace,
  newMessageId,
  OutboundJobSchema,
  partitionOf,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { RedisServer } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { Agent } from "undici";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..");
const LEVELS = [1, 64, 256];

interface Figures {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function figures(latencies: number[], elapsedMs: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: latencies.length,
    perSecond: Math.round((latencies.length * 1000) / elapsedMs),
    p50: Number(percentile(sorted, 50).toFixed(2)),
    p99: Number(percentile(sorted, 99).toFixed(2)),
  };
}

class Sink {
  private readonly waiting = new Map<string, () => void>();
  private constructor(
    private readonly worker: Worker,
    readonly url: string,
  ) {
    worker.on("message", (m: { ids?: string[] }) => {
      for (const id of m.ids ?? []) {
        const done = this.waiting.get(id);
        if (done) {
          this.waiting.delete(id);
          done();
        }
      }
    });
  }

  static async start(): Promise<Sink> {
    const worker = new Worker(new URL("./deliverer-sink-worker.mjs", import.meta.url));
    const port = await new Promise<number>((r) => worker.once("message", (m: { port: number }) => r(m.port)));
    return new Sink(worker, `http://127.0.0.1:${port}`);
  }

  arrival(id: string): Promise<void> {
    return new Promise((r) => this.waiting.set(id, r));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Runs `slots` closed loops of `one(slot)` for `durationMs` after a short warm-up; returns latencies (ms). */
async function closedLoop(
  slots: number,
  durationMs: number,
  one: (slot: number) => Promise<void>,
): Promise<{ latencies: number[]; elapsedMs: number }> {
  const warmUntil = performance.now() + Math.min(500, durationMs / 4);
  const latencies: number[] = [];
  let start = 0;
  let end = 0;
  await Promise.all(
    Array.from({ length: slots }, async (_, slot) => {
      while (true) {
        const t0 = performance.now();
        if (start && t0 >= end) return;
        await one(slot);
        const t1 = performance.now();
        if (!start && t1 >= warmUntil) {
          start = t1;
          end = t1 + durationMs;
        } else if (start && t0 >= start && t1 <= end) {
          latencies.push(t1 - t0);
        }
      }
    }),
  );
  return { latencies, elapsedMs: durationMs };
}

async function baseline(sink: Sink, slots: number, durationMs: number): Promise<Figures> {
  const agent = new Agent({ connections: slots, pipelining: 1 });
  const url = new URL(sink.url);
  const body = Buffer.alloc(512, 7);
  let n = 0;
  const { latencies, elapsedMs } = await closedLoop(slots, durationMs, async () => {
    const id = `b${n++}`;
    const res = await agent.request({
      origin: url.origin,
      path: "/",
      method: "POST",
      headers: { "content-type": "application/didcomm-envelope-enc", "x-bench-id": id },
      body,
    });
    await res.body.dump();
  });
  await agent.destroy();
  return figures(latencies, elapsedMs);
}

async function throughDeliverer(
  client: RedisClient,
  keyspace: Keyspace,
  sink: Sink,
  slots: number,
  durationMs: number,
): Promise<Figures> {
  const body = Buffer.alloc(512, 7);
  const count = keyspace.partitionCount("outboundQueue");
  const field = keyspace.spec("outboundQueue").entryField;
  const seenTtl = keyspace.spec("outboundSeen").defaultTtlMs;
  const { latencies, elapsedMs } = await closedLoop(slots, durationMs, async (slot) => {
    const recipientKey = `bench-rk-${slots}-${slot}`;
    const mid = newMessageId();
    const job = create(OutboundJobSchema, {
      mid,
      kind: JobKind.DIDCOMM,
      recipientKey,
      endpoint: `${sink.url}/`,
      contentType: "application/didcomm-envelope-enc",
      body,
      headers: { "x-bench-id": mid },
      createdAtMs: BigInt(Date.now()),
      expiresAtMs: BigInt(Date.now() + 3_600_000),
    });
    const partition = partitionOf(recipientKey, count);
    const arrived = sink.arrival(mid);
    const outcome = await enqueueEnvelope(client, {
      stream: keyspace.key("outboundQueue", { partition }),
      seenKey: keyspace.key("outboundSeen", { partition, mid }),
      seenTtlMs: seenTtl,
      entryField: field,
      payload: encodeEnvelope(OutboundJobSchema, job),
      highWaterMark: 0,
    });
    if (outcome.status !== "queued") throw new Error(`enqueue: ${outcome.status}`);
    await arrived;
  });
  return figures(latencies, elapsedMs);
}

async function spawnDeliverer(redisUrl: string, prefix: string): Promise<ChildProcess> {
  const fixture = join(repoRoot, "packages/deliverer/test-fixtures/deliverer-process.ts");
  const nodeArgs = (process.env.BENCH_DELIVERER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeArgs, "--conditions=@acapy-bridge/source", "--import", "tsx", fixture],
    {
      cwd: repoRoot,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        PREFIX: prefix,
        INSTANCE_ID: "bench-deliverer",
        PARTITION_PLAN: JSON.stringify(DEFAULT_PARTITIONS),
        // Production timings; enough slots for the highest level on the single sink endpoint.
        DELIVERER_CONFIG: JSON.stringify({
          concurrency: 256,
          endpointConcurrency: 256,
          leaseTtlMs: 10_000,
          heartbeatMs: 2_000,
          blockMs: 2_000,
          totalTimeoutMs: 30_000,
          connectTimeoutMs: 5_000,
        }),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  await new Promise<void>((resolveReady, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes('"process.ready"')) resolveReady();
    });
    child.once("exit", (code) => reject(new Error(`deliverer exited ${code}: ${out}`)));
  });
  return child;
}

export async function main(args: string[]): Promise<void> {
  const durationIndex = args.indexOf("--duration-ms");
  const durationMs = durationIndex >= 0 ? Number(args[durationIndex + 1]) : 3_000;
  const redis = await RedisServer.start();
  const prefix = `bench-dlv-${Date.now()}`;
  const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
  await waitUntilReady(client);
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  const sink = await Sink.start();
  const deliverer = await spawnDeliverer(redis.url, prefix);
  // All partitions owned before measuring.
  for (let i = 0; i < 100; i++) {
    const holders = await Promise.all(keyspace.allPartitions("outboundLease").map((k) => client.get(k)));
    if (holders.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const results: Record<string, { deliverer: Figures; baseline: Figures; ratio: number }> = {};
  try {
    for (const level of LEVELS) {
      const base = await baseline(sink, level, durationMs);
      const mine = await throughDeliverer(client, keyspace, sink, level, durationMs);
      const ratio = Number((mine.perSecond / Math.max(1, base.perSecond)).toFixed(3));
      results[String(level)] = { deliverer: mine, baseline: base, ratio };
      console.log(
        `in flight ${String(level).padStart(3)}: deliverer ${mine.perSecond}/s p50 ${mine.p50} ms p99 ${mine.p99} ms | ` +
          `baseline ${base.perSecond}/s p50 ${base.p50} ms p99 ${base.p99} ms | ratio ${ratio}`,
      );
    }
  } finally {
    deliverer.kill("SIGTERM");
    await new Promise((r) => deliverer.once("exit", r));
    await sink.close();
    await closeRedisClient(client);
    await redis.stop();
  }
  console.log(
    JSON.stringify({
      bench: "deliverer",
      durationMs,
      levels: results,
      ratioAt64: results["64"]?.ratio,
      target: { ratioAt64: 0.6 },
      meetsTarget: (results["64"]?.ratio ?? 0) >= 0.6,
    }),
  );
}
