// `npm run bench -- deliverer [--duration-ms 3000] [--levels 1,64,256] [--rounds 3] [--drain-warm-up-ms 3000]`
//
// Deliveries/s and p50/p99 latency to a local HTTP sink at 1, 64 and 256 in
// flight, against a baseline measured in the same run: the same sink driven
// directly by a load generator (undici, keep-alive, one connection per slot)
// at the same concurrency. The sink runs in a worker thread in every case.
//
// The deliverer's job is to drain a queue to endpoints, so its headline
// figures come from draining a backlog: the outbound partitions are filled
// first (N recipients, jobs interleaved round robin), then a deliverer process
// (`acapy-bridge deliverer`, the built CLI as deployed, production defaults)
// starts and drains them while nothing else runs. Per-recipient order allows
// one job of a recipient in flight at a time, so N recipients are exactly N in
// flight. A job's latency is its recipient's cycle at the sink: the time from
// the previous job's arrival to this one's (answer, acknowledgement, next
// read, next request), the counterpart of one baseline request's round trip.
// The sink also checks that every recipient's jobs arrived in order.
//
// For reference it also runs the closed loop the shim drives in production:
// N jobs in flight, each enqueued with the shim's script by this process and
// timed from the enqueue call to its arrival at the sink (this process's
// enqueuing shares the CPU with the deliverer).
//
// A third process drains the same backlog in each round: the bare loop of
// bare-deliverer-process.ts (read, decode, POST in recipient order, batched
// acknowledgements, nothing else). Its ratio is what any deliverer reading
// Redis can reach on this machine; the gap to the deliverer's is bookkeeping.
//
// The last line is one JSON object; `ratio` is drain deliveries/s over
// baseline/s, `bareRatio` the bare loop's.
// Profile the deliverer with BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (or
// "--perf-basic-prof" for `perf`); try other settings with BENCH_DELIVERER_FLAGS="--delivery-... N".
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  ensureTopology,
  JobKind,
  type Keyspace,
  newMessageId,
  type OutboundJob,
  OutboundJobSchema,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import {
  BridgeProcess,
  callsPerUnit,
  commandCounts,
  loopbackBridgeArgs,
  RedisServer,
} from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { Agent } from "undici";
import { enqueueJob } from "../packages/deliverer/test-fixtures/deliverer-harness.js";
import { CpuBreakdown, type CpuTime, cpuTimeOf, cpuTimeOfThread } from "./process-cpu.js";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..");
const DEFAULT_LEVELS = [1, 64, 256];
/** Excluded from every measurement: JIT warm-up, connection set-up, the first reads. */
const WARM_UP_MS = 500;
/**
 * A drain's measurement starts this long after its first arrival: each drain
 * is a fresh process, and V8 spends its first seconds compiling the hot paths
 * (TurboFan threads took a third of a fresh deliverer's CPU 2-4 s after its
 * start). The baseline's load generator is this process, warm after its first round.
 */
const DEFAULT_DRAIN_WARM_UP_MS = 3_000;
const BODY = Buffer.alloc(512, 7);
const CONTENT_TYPE = "application/didcomm-envelope-enc";
/** Enqueue calls in flight while filling the backlog. */
const PREFILL_WINDOW = 2_000;

interface Figures {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
  /**
   * CPU per delivery (µs) of each part over the window, and how busy the whole
   * machine was: on a small machine every part shares the cores, so the sum
   * of the parts is what bounds deliveries/s.
   */
  cpu?: ReturnType<CpuBreakdown["stop"]>;
}

interface DrainFigures extends Figures {
  /** Jobs that reached the sink before an earlier job of the same recipient (must be 0). */
  outOfOrder: number;
  /**
   * CPU time of the deliverer process per delivery in the window, in user
   * space and in the kernel (socket writes and reads). Less sensitive to a busy
   * machine than deliveries/s, though time stolen from a virtual CPU still counts.
   */
  cpuMicrosPerDelivery: { user: number; system: number } | undefined;
  /** Redis commands per delivery in the window, by command (scripts count as one call). */
  redisCallsPerDelivery: Record<string, number>;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function figures(latencies: number[], elapsedMs: number): Figures {
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: latencies.length,
    perSecond: Math.round((latencies.length * 1000) / elapsedMs),
    p50: Number(percentile(sorted, 50).toFixed(2)),
    p99: Number(percentile(sorted, 99).toFixed(2)),
  };
}

type ArrivalListener = (id: string, atMs: number) => void;

class Sink {
  private readonly waiting = new Map<string, () => void>();
  private listener: ArrivalListener | undefined;
  private constructor(
    private readonly worker: Worker,
    readonly url: string,
    /** "<pid>/task/<tid>" of the sink's thread, for its CPU time. */
    readonly procPath: string | undefined,
  ) {
    worker.on("message", (m: { ids?: string[]; times?: number[] }) => {
      const ids = m.ids ?? [];
      const times = m.times ?? [];
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as string;
        this.listener?.(id, times[i] as number);
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
    const ready = await new Promise<{ port: number; procPath?: string }>((r) => worker.once("message", r));
    return new Sink(worker, `http://127.0.0.1:${ready.port}`, ready.procPath);
  }

  arrival(id: string): Promise<void> {
    return new Promise((r) => this.waiting.set(id, r));
  }

  /** Every arrival (id, absolute ms) goes to `listener` until it is replaced or cleared. */
  onArrival(listener: ArrivalListener | undefined): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Runs `slots` closed loops of `one(slot)` for `durationMs` after a warm-up; returns latencies (ms). */
async function closedLoop(
  slots: number,
  durationMs: number,
  one: (slot: number) => Promise<void>,
  onWindow: (edge: "start" | "end") => void = () => {},
): Promise<{ latencies: number[]; elapsedMs: number }> {
  const warmUntil = performance.now() + Math.min(WARM_UP_MS, durationMs / 4);
  const latencies: number[] = [];
  let start = 0;
  let end = 0;
  let ended = false;
  await Promise.all(
    Array.from({ length: slots }, async (_, slot) => {
      while (true) {
        const t0 = performance.now();
        if (start && t0 >= end) {
          if (!ended) {
            ended = true;
            onWindow("end");
          }
          return;
        }
        await one(slot);
        const t1 = performance.now();
        if (!start && t1 >= warmUntil) {
          start = t1;
          end = t1 + durationMs;
          onWindow("start");
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
  const cpu = new CpuBreakdown({
    loadGenerator: () => cpuTimeOfThread(`${process.pid}/task/${process.pid}`),
    sink: () => cpuTimeOfThread(sink.procPath),
  });
  let n = 0;
  let completed = 0;
  let completedAtStart = 0;
  let breakdown: Figures["cpu"];
  const onWindow = (edge: "start" | "end") => {
    if (edge === "start") {
      completedAtStart = completed;
      cpu.start();
    } else {
      breakdown = cpu.stop(completed - completedAtStart);
    }
  };
  const request = async () => {
    const id = `b${n++}`;
    const res = await agent.request({
      origin: url.origin,
      path: "/",
      method: "POST",
      headers: { "content-type": CONTENT_TYPE, "x-bench-id": id },
      body: BODY,
    });
    await res.body.dump();
    completed++;
  };
  const { latencies, elapsedMs } = await closedLoop(slots, durationMs, request, onWindow);
  await agent.destroy();
  return { ...figures(latencies, elapsedMs), cpu: breakdown };
}

function benchJob(sink: Sink, recipientKey: string, benchId: string): OutboundJob {
  const now = Date.now();
  return create(OutboundJobSchema, {
    mid: newMessageId(),
    kind: JobKind.DIDCOMM,
    recipientKey,
    endpoint: `${sink.url}/`,
    contentType: CONTENT_TYPE,
    body: BODY,
    headers: { "x-bench-id": benchId },
    createdAtMs: BigInt(now),
    expiresAtMs: BigInt(now + 3_600_000),
  });
}

/** Fills the outbound partitions with `total` jobs for `slots` recipients, interleaved so every recipient has work. */
async function prefill(client: RedisClient, keyspace: Keyspace, sink: Sink, slots: number, total: number) {
  const perRecipient = Math.ceil(total / slots);
  let inFlight: Promise<unknown>[] = [];
  for (let seq = 0; seq < perRecipient; seq++) {
    for (let slot = 0; slot < slots; slot++) {
      inFlight.push(enqueueJob(client, keyspace, benchJob(sink, `bench-rk-${slots}-${slot}`, `${slot}:${seq}`)));
      if (inFlight.length >= PREFILL_WINDOW) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
  }
  await Promise.all(inFlight);
  return perRecipient * slots;
}

/** Which process drains the backlog: the deliverer as deployed, or the bare loop of bare-deliverer-process.ts. */
type Drainer = "deliverer" | "bare";

/** Drains a backlog of `backlog` jobs for `slots` recipients with a fresh process; measures after the warm-up. */
async function drain(
  drainer: Drainer,
  redisUrl: string,
  redisPid: number | undefined,
  client: RedisClient,
  sink: Sink,
  slots: number,
  durationMs: number,
  warmUpMs: number,
  backlog: number,
): Promise<DrainFigures> {
  const prefix = `bench-dlv-drain-${slots}-${Date.now()}`;
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  const total = await prefill(client, keyspace, sink, slots, backlog);
  const lastSeq = new Int32Array(slots).fill(-1);
  const lastAt = new Float64Array(slots);
  const latencies: number[] = [];
  let outOfOrder = 0;
  let arrived = 0;
  let windowStart = 0;
  let windowEnd = 0;
  let lastInWindow = 0;
  let finished: () => void = () => {};
  const done = new Promise<void>((r) => {
    finished = r;
  });
  let delivererPid: number | undefined;
  let cpuAtStart: CpuTime | undefined;
  let cpuAtEnd: CpuTime | undefined;
  const cpu = new CpuBreakdown({
    deliverer: () => cpuTimeOf(delivererPid),
    redis: () => cpuTimeOf(redisPid),
    sink: () => cpuTimeOfThread(sink.procPath),
    benchMainThread: () => cpuTimeOfThread(`${process.pid}/task/${process.pid}`),
  });
  let breakdown: Figures["cpu"];
  let arrivedInWindow = 0;
  let statsAtStart: Promise<string> | undefined;
  let statsAtEnd: Promise<string> | undefined;
  sink.onArrival((id, at) => {
    const colon = id.indexOf(":");
    const slot = Number(id.slice(0, colon));
    const seq = Number(id.slice(colon + 1));
    if (seq <= (lastSeq[slot] as number)) outOfOrder++;
    if (!windowStart) {
      windowStart = at + warmUpMs;
      windowEnd = windowStart + durationMs;
    }
    if (at >= windowStart && cpuAtStart === undefined) {
      cpuAtStart = cpuTimeOf(delivererPid);
      cpu.start();
      statsAtStart = client.info("commandstats");
    }
    if (at >= windowStart && at <= windowEnd) {
      arrivedInWindow++;
      // A recipient's first arrival has no cycle before it.
      if ((lastSeq[slot] as number) >= 0) latencies.push(at - (lastAt[slot] as number));
      lastInWindow = at;
    }
    lastSeq[slot] = seq;
    lastAt[slot] = at;
    if (++arrived === total || at > windowEnd) {
      if (cpuAtEnd === undefined) {
        cpuAtEnd = cpuTimeOf(delivererPid);
        breakdown = cpu.stop(arrivedInWindow);
        statsAtEnd = client.info("commandstats");
      }
      finished();
    }
  });
  const deliverer = await spawnDeliverer(redisUrl, prefix, drainer);
  delivererPid = deliverer.pid;
  try {
    await done;
  } finally {
    sink.onArrival(undefined);
    await deliverer.stop();
  }
  // A backlog that ran dry before the window closed is measured up to its last arrival.
  const elapsedMs = Math.max(1, Math.min(windowEnd, lastInWindow) - windowStart);
  const measured = figures(latencies, elapsedMs);
  const cpuMicrosPerDelivery =
    cpuAtStart !== undefined && cpuAtEnd !== undefined && measured.count > 0
      ? {
          user: Math.round(((cpuAtEnd.userMs - cpuAtStart.userMs) * 1000) / measured.count),
          system: Math.round(((cpuAtEnd.systemMs - cpuAtStart.systemMs) * 1000) / measured.count),
        }
      : undefined;
  const redisCallsPerDelivery =
    statsAtStart && statsAtEnd
      ? callsPerUnit(commandCounts(await statsAtStart), commandCounts(await statsAtEnd), arrivedInWindow)
      : {};
  return { ...measured, cpu: breakdown, outOfOrder, cpuMicrosPerDelivery, redisCallsPerDelivery };
}

/** The closed loop of production: `slots` jobs in flight, each timed from its enqueue to its arrival at the sink. */
async function closedLoopThroughDeliverer(
  redisUrl: string,
  client: RedisClient,
  sink: Sink,
  slots: number,
  durationMs: number,
): Promise<Figures> {
  const prefix = `bench-dlv-loop-${slots}-${Date.now()}`;
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  const deliverer = await spawnDeliverer(redisUrl, prefix);
  try {
    let n = 0;
    const { latencies, elapsedMs } = await closedLoop(slots, durationMs, async (slot) => {
      const job = benchJob(sink, `bench-rk-${slots}-${slot}`, `loop:${n++}`);
      const arrived = sink.arrival(job.headers["x-bench-id"] as string);
      await enqueueJob(client, keyspace, job);
      await arrived;
    });
    return figures(latencies, elapsedMs);
  } finally {
    await deliverer.stop();
  }
}

/** A process draining the outbound partitions, until stopped. */
interface DrainingProcess {
  pid: number | undefined;
  stop(): Promise<unknown>;
}

/**
 * `acapy-bridge deliverer` as deployed (the built CLI, production defaults and
 * info logs), with enough slots for the highest level on the single sink
 * endpoint; BENCH_DELIVERER_FLAGS adds flags (e.g. "--delivery-partition-buffer 200").
 * Or the bare loop. Resolves once the process is ready.
 */
async function spawnDeliverer(
  redisUrl: string,
  prefix: string,
  drainer: Drainer = "deliverer",
): Promise<DrainingProcess> {
  if (drainer === "deliverer") {
    const flags = [
      "--delivery-concurrency",
      "256",
      "--delivery-endpoint-concurrency",
      "256",
      "--inbound-partitions",
      String(DEFAULT_PARTITIONS.inboundPartitions),
      "--outbound-partitions",
      String(DEFAULT_PARTITIONS.outboundPartitions),
      "--event-partitions",
      String(DEFAULT_PARTITIONS.eventPartitions),
      "--admin-partitions",
      String(DEFAULT_PARTITIONS.adminPartitions),
      ...(process.env.BENCH_DELIVERER_FLAGS ?? "").split(" ").filter(Boolean),
    ];
    return BridgeProcess.start("deliverer", loopbackBridgeArgs("deliverer", redisUrl, prefix, flags));
  }
  const child = spawn(
    process.execPath,
    ["--conditions=@acapy-bridge/source", "--import", "tsx", join(here, "bare-deliverer-process.ts")],
    {
      cwd: repoRoot,
      env: { ...process.env, REDIS_URL: redisUrl, PREFIX: prefix, PARTITION_PLAN: JSON.stringify(DEFAULT_PARTITIONS) },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  await new Promise<void>((resolveReady, reject) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      if (out.includes('"process.ready"')) {
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        resolveReady();
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`bare deliverer exited ${code}: ${out}`)));
  });
  return {
    pid: child.pid,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** "deliverer 70 + redis 15 + sink 25 = 110, machine 98% busy" */
function describeCpu(cpu: Figures["cpu"]): string {
  if (!cpu) return "?";
  const parts = Object.entries(cpu.microsPerUnit);
  const sum = parts.reduce((n, [, us]) => n + us, 0);
  const busy = cpu.machineBusy === undefined ? "" : `, machine ${Math.round(cpu.machineBusy * 100)}% busy`;
  return `${parts.map(([name, us]) => `${name} ${us}`).join(" + ")} = ${sum}${busy}`;
}

/** Deliveries/s of `side` over the baseline's, 3 decimals. */
function ratioOf(side: { perSecond: number }, base: { perSecond: number }): number {
  return Number((side.perSecond / Math.max(1, base.perSecond)).toFixed(3));
}

/** The round with the median rate (its latencies and CPU figures come along). */
function medianRound<T extends { perSecond: number }>(rounds: T[]): T {
  const sorted = [...rounds].sort((a, b) => a.perSecond - b.perSecond);
  return sorted[Math.floor((sorted.length - 1) / 2)] as T;
}

export async function main(args: string[]): Promise<void> {
  const durationIndex = args.indexOf("--duration-ms");
  const durationMs = durationIndex >= 0 ? Number(args[durationIndex + 1]) : 3_000;
  // `--levels 64` (comma-separated) measures only those, e.g. while profiling.
  const levelsIndex = args.indexOf("--levels");
  const levels =
    levelsIndex >= 0
      ? String(args[levelsIndex + 1])
          .split(",")
          .map(Number)
      : DEFAULT_LEVELS;
  const roundsIndex = args.indexOf("--rounds");
  const rounds = Math.max(1, roundsIndex >= 0 ? Number(args[roundsIndex + 1]) : 3);
  const warmUpIndex = args.indexOf("--drain-warm-up-ms");
  const drainWarmUpMs = warmUpIndex >= 0 ? Number(args[warmUpIndex + 1]) : DEFAULT_DRAIN_WARM_UP_MS;
  const redis = await RedisServer.start();
  const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
  await waitUntilReady(client);
  const sink = await Sink.start();
  const results: Record<
    string,
    {
      deliverer: DrainFigures;
      baseline: Figures;
      ratio: number;
      bareLoop: DrainFigures;
      bareRatio: number;
      closedLoopWithEnqueue: Figures;
    }
  > = {};
  try {
    for (const level of levels) {
      // Alternating rounds, medians: a busy spell of a small machine then hits both sides alike.
      const bases: Figures[] = [];
      const mines: DrainFigures[] = [];
      const bares: DrainFigures[] = [];
      for (let round = 1; round <= rounds; round++) {
        const base = await baseline(sink, level, durationMs);
        // Enough backlog for the deliverer to keep pace with the baseline for the whole window.
        const backlog = Math.ceil((base.perSecond * (durationMs + drainWarmUpMs + WARM_UP_MS)) / 1000);
        const drainFor = [redis.url, redis.pid, client, sink, level, durationMs, drainWarmUpMs, backlog] as const;
        const mine = await drain("deliverer", ...drainFor);
        await client.flushall();
        const bare = await drain("bare", ...drainFor);
        await client.flushall();
        bases.push(base);
        mines.push(mine);
        bares.push(bare);
        if (rounds > 1) {
          console.log(
            `  in flight ${level}, round ${round}/${rounds}: deliverer ${mine.perSecond}/s, baseline ${base.perSecond}/s, ratio ${ratioOf(mine, base)} | bare loop ${bare.perSecond}/s, ratio ${ratioOf(bare, base)}`,
          );
        }
        console.log(
          `    CPU µs/delivery: deliverer side ${describeCpu(mine.cpu)} | bare loop side ${describeCpu(bare.cpu)} | baseline ${describeCpu(base.cpu)}`,
        );
        console.log(`    Redis calls per delivery: ${JSON.stringify(mine.redisCallsPerDelivery)}`);
      }
      const base = medianRound(bases);
      const mine = medianRound(mines);
      const bare = medianRound(bares);
      const loop = await closedLoopThroughDeliverer(redis.url, client, sink, level, durationMs);
      await client.flushall();
      const ratio = ratioOf(mine, base);
      const bareRatio = ratioOf(bare, base);
      const outOfOrder = mines.reduce((n, m) => n + m.outOfOrder, 0);
      results[String(level)] = {
        deliverer: { ...mine, outOfOrder },
        baseline: base,
        ratio,
        bareLoop: bare,
        bareRatio,
        closedLoopWithEnqueue: loop,
      };
      const cpu = mine.cpuMicrosPerDelivery;
      console.log(
        `in flight ${String(level).padStart(3)}: deliverer ${mine.perSecond}/s p50 ${mine.p50} ms p99 ${mine.p99} ms | ` +
          `baseline ${base.perSecond}/s p50 ${base.p50} ms p99 ${base.p99} ms | ratio ${ratio}${rounds > 1 ? ` (medians of ${rounds})` : ""} | ` +
          `bare loop ${bare.perSecond}/s, ratio ${bareRatio} | ` +
          `deliverer CPU/delivery ${cpu ? `${cpu.user} µs user + ${cpu.system} µs system` : "?"} | ` +
          `closed loop with enqueue ${loop.perSecond}/s p50 ${loop.p50} ms p99 ${loop.p99} ms` +
          (outOfOrder > 0 ? ` | OUT OF ORDER ${outOfOrder}` : ""),
      );
    }
  } finally {
    await sink.close();
    await closeRedisClient(client);
    await redis.stop();
  }
  const outOfOrder = Object.values(results).reduce((n, r) => n + r.deliverer.outOfOrder, 0);
  console.log(
    JSON.stringify({
      bench: "deliverer",
      durationMs,
      drainWarmUpMs,
      rounds,
      levels: results,
      ratioAt64: results["64"]?.ratio,
      bareRatioAt64: results["64"]?.bareRatio,
      outOfOrder,
      target: { ratioAt64: 0.6 },
      meetsTarget: (results["64"]?.ratio ?? 0) >= 0.6 && outOfOrder === 0,
    }),
  );
}
