// `npm run bench -- e2e [--round-trips 100] [--burst 300] [--rounds 4] [--warm-up 1000]`
//
// Bob -> Alice -> Bob: Bob sends a basic message, Alice's
// --auto-respond-messages reply comes back, observed at Bob's webhook sink.
// Two pairs run side by side in the same run: Alice entirely behind
// acapy-bridge (`all`, the shim's inbound and outbound transports), and the
// baseline, Alice on ACA-Py's own HTTP transports. They are measured in
// alternation, `rounds` times each, so that a busy spell of a small machine
// hits both alike; the figures are the medians of the rounds. Which pair goes
// first alternates by round (AB BA AB BA): the machine's speed drifts during a
// run (in six 3-round runs at one head, the first slot, the baseline's, was the
// fastest of its run five times), and an even number of rounds gives both pairs
// the same mean position, where 3 (AB BA AB) gave the baseline the earlier. Latency:
// sequential round trips. Throughput: a burst sent by 8 concurrent senders,
// timed until every reply arrived, with the CPU that Alice's ACA-Py process
// (and the bridge) used per message. Before any measurement each pair gets a
// warm-up burst (`--warm-up`), so that the figures are those of processes in
// service, not of a JIT compiling. The last line is one JSON object with the
// figures and the bridge's cost. Profile the bridge with
// BENCH_BRIDGE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (or "--perf-basic-prof" for `perf`).
import {
  AcaPyAdmin,
  AcaPyProcess,
  aliceBehindBridgeArgs,
  BridgeProcess,
  commandCounts,
  connectAgents,
  freePort,
  loopbackBridgeArgs,
  RedisServer,
  uniquePrefix,
  WebhookSink,
} from "@acapy-bridge/test-harness";

import { Redis } from "ioredis";
import { numberOption } from "./bench-options.js";
import { median, percentile, quantileCurve } from "./figures.js";
import { cpuMsBetween, cpuTimeOf } from "./process-cpu.js";

interface LatencyFigures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** [percentile, ms] pairs: the distribution, for the report's chart. */
  curve: Array<[number, number]>;
}

interface BurstFigures {
  throughputPerSecond: number;
  /** CPU (user + system) of Alice's ACA-Py process per message of the burst. */
  aliceCpuMsPerMessage: number | undefined;
  /** CPU of Bob's ACA-Py process (the sender) per message of the burst. */
  bobCpuMsPerMessage: number | undefined;
  /** CPU of the bridge process per message of the burst (bridged pair only). */
  bridgeCpuMsPerMessage?: number | undefined;
  /** CPU of Redis per message of the burst (bridged pair only). */
  redisCpuMsPerMessage?: number | undefined;
}

/** One Bob -> Alice pair, connected, with what is needed to drive and observe it. */
interface Pair {
  name: string;
  alice: AcaPyAdmin;
  bob: AcaPyAdmin;
  bobHooks: WebhookSink;
  bobConnection: string;
  alicePid: number | undefined;
  bobPid: number | undefined;
  bridgePid?: number | undefined;
  redisPid?: number | undefined;
  /** Replies seen at Bob so far. */
  seen: number;
}

function round2(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Number(value.toFixed(2));
}

async function waitForCount(sink: WebhookSink, count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (sink.byTopic("basicmessages").length < count) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

async function connectPair(
  name: string,
  alice: AcaPyAdmin,
  bob: AcaPyAdmin,
  bobHooks: WebhookSink,
  pids: { alice: number | undefined; bob: number | undefined; bridge?: number | undefined; redis?: number | undefined },
): Promise<Pair> {
  const { inviteeConnectionId } = await connectAgents(alice, bob);
  const pair: Pair = {
    name,
    alice,
    bob,
    bobHooks,
    bobConnection: inviteeConnectionId,
    alicePid: pids.alice,
    bobPid: pids.bob,
    bridgePid: pids.bridge,
    redisPid: pids.redis,
    seen: bobHooks.byTopic("basicmessages").length,
  };
  // Connections and caches, not measured (the JIT's warm-up is a burst: see `main`).
  await roundTrips(pair, 5, "warm-up");
  return pair;
}

/** Sequential round trips; their latencies (ms). */
async function roundTrips(pair: Pair, count: number, label: string): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const sentAt = performance.now();
    await pair.bob.sendMessage(pair.bobConnection, `${label} ${i}`);
    if (!(await waitForCount(pair.bobHooks, pair.seen + 1, 30_000))) {
      throw new Error(`${pair.name}: reply to ${label} ${i} did not arrive`);
    }
    latencies.push(performance.now() - sentAt);
    pair.seen++;
  }
  return latencies;
}

/** `size` messages from 8 concurrent senders, timed until every reply arrived. */
async function burstOf(pair: Pair, size: number, label: string): Promise<BurstFigures> {
  const aliceCpu = cpuTimeOf(pair.alicePid);
  const bobCpu = cpuTimeOf(pair.bobPid);
  const bridgeCpu = cpuTimeOf(pair.bridgePid);
  const redisCpu = cpuTimeOf(pair.redisPid);
  const startedAt = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < size) {
        const i = next++;
        await pair.bob.sendMessage(pair.bobConnection, `${label} ${i}`);
      }
    }),
  );
  if (!(await waitForCount(pair.bobHooks, pair.seen + size, 120_000))) {
    throw new Error(`${pair.name}: replies to ${label} did not all arrive`);
  }
  pair.seen += size;
  const seconds = (performance.now() - startedAt) / 1000;
  const perMessage = (ms: number | undefined) => (ms === undefined ? undefined : ms / size);
  return {
    throughputPerSecond: size / seconds,
    aliceCpuMsPerMessage: perMessage(cpuMsBetween(aliceCpu, cpuTimeOf(pair.alicePid))),
    bobCpuMsPerMessage: perMessage(cpuMsBetween(bobCpu, cpuTimeOf(pair.bobPid))),
    bridgeCpuMsPerMessage: perMessage(cpuMsBetween(bridgeCpu, cpuTimeOf(pair.bridgePid))),
    redisCpuMsPerMessage: perMessage(cpuMsBetween(redisCpu, cpuTimeOf(pair.redisPid))),
  };
}

/** CPU (ms per second) each process uses with no traffic: background work that every message pays for under load. */
async function idleCpu(pids: Record<string, number | undefined>, seconds = 5): Promise<Record<string, number>> {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTimeOf(pid)]));
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const result: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const ms = cpuMsBetween(before[name], cpuTimeOf(pid));
    if (ms !== undefined) result[name] = Number((ms / seconds).toFixed(1));
  }
  return result;
}

function latencyFigures(latencies: number[]): LatencyFigures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    p50Ms: round2(percentile(sorted, 50)) as number,
    p99Ms: round2(percentile(sorted, 99)) as number,
    meanMs: round2(sorted.reduce((sum, v) => sum + v, 0) / sorted.length) as number,
    curve: quantileCurve(sorted),
  };
}

function burstSummary(bursts: BurstFigures[]) {
  const medianOf = (pick: (b: BurstFigures) => number | undefined) => {
    const values = bursts.map(pick).filter((v): v is number => v !== undefined);
    return values.length > 0 ? round2(median(values)) : undefined;
  };
  return {
    throughputPerSecond: Number(median(bursts.map((b) => b.throughputPerSecond)).toFixed(1)),
    throughputPerRound: bursts.map((b) => Number(b.throughputPerSecond.toFixed(1))),
    aliceCpuMsPerMessage: medianOf((b) => b.aliceCpuMsPerMessage),
    bobCpuMsPerMessage: medianOf((b) => b.bobCpuMsPerMessage),
    bridgeCpuMsPerMessage: medianOf((b) => b.bridgeCpuMsPerMessage),
    redisCpuMsPerMessage: medianOf((b) => b.redisCpuMsPerMessage),
    // Every process of the pair: on a machine they share, this total is what bounds the throughput.
    pairCpuMsPerMessage: medianOf(
      (b) =>
        (b.bobCpuMsPerMessage ?? 0) +
        (b.aliceCpuMsPerMessage ?? 0) +
        (b.bridgeCpuMsPerMessage ?? 0) +
        (b.redisCpuMsPerMessage ?? 0),
    ),
  };
}

async function plainAgent(label: string, hooks: WebhookSink, extra: string[] = []): Promise<AcaPyProcess> {
  const port = await freePort();
  return AcaPyProcess.start({
    label,
    args: [
      ...["-it", "http", "127.0.0.1", String(port), "-ot", "http", "-e", `http://127.0.0.1:${port}`],
      ...["--webhook-url", hooks.url, "--auto-accept-invites", "--auto-accept-requests", "--log-level", "error"],
      ...extra,
    ],
  });
}

export async function main(args: string[]): Promise<void> {
  const roundTripCount = numberOption(args, "round-trips", 100);
  const burst = numberOption(args, "burst", 300);
  const rounds = Math.max(1, numberOption(args, "rounds", 4));
  const warmUp = numberOption(args, "warm-up", 1000);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    console.log(
      `e2e: ${roundTripCount} sequential round trips and a burst of ${burst}, Bob -> Alice -> Bob, ${rounds} alternating rounds`,
    );

    // Baseline: Alice on ACA-Py's own HTTP transports.
    const baseBobHooks = await WebhookSink.start();
    const baseAliceHooks = await WebhookSink.start();
    stops.push(
      () => baseBobHooks.close(),
      () => baseAliceHooks.close(),
    );
    const baseAlice = await plainAgent("alice-plain", baseAliceHooks, ["--auto-respond-messages"]);
    const baseBob = await plainAgent("bob-plain", baseBobHooks);
    stops.push(
      () => baseAlice.stop(),
      () => baseBob.stop(),
    );

    // Alice entirely behind the bridge (Design 2: one `all` process).
    const redis = await RedisServer.start();
    stops.push(() => redis.stop());
    const prefix = uniquePrefix("bench-e2e");
    const bridge = await BridgeProcess.start("all", loopbackBridgeArgs("all", redis.url, prefix));
    stops.push(() => bridge.stop());
    const bobHooks = await WebhookSink.start();
    const aliceHooks = await WebhookSink.start();
    stops.push(
      () => bobHooks.close(),
      () => aliceHooks.close(),
    );
    const alice = await AcaPyProcess.start({
      label: "alice-bridged",
      args: [
        ...aliceBehindBridgeArgs(redis.url, prefix, `http://${bridge.address("http")}`),
        ...[
          "--webhook-url",
          aliceHooks.url,
          "--auto-accept-invites",
          "--auto-accept-requests",
          "--auto-respond-messages",
          "--log-level",
          "error",
        ],
      ],
    });
    const bob = await plainAgent("bob", bobHooks);
    stops.push(
      () => alice.stop(),
      () => bob.stop(),
    );

    const basePair = await connectPair(
      "baseline",
      new AcaPyAdmin(baseAlice.adminUrl),
      new AcaPyAdmin(baseBob.adminUrl),
      baseBobHooks,
      { alice: baseAlice.pid, bob: baseBob.pid },
    );
    const bridgedPair = await connectPair(
      "bridged",
      new AcaPyAdmin(alice.adminUrl),
      new AcaPyAdmin(bob.adminUrl),
      bobHooks,
      { alice: alice.pid, bob: bob.pid, bridge: bridge.pid, redis: redis.pid },
    );

    // Warm-up, not measured: a Node process compiles its hot code with the optimizing JIT over its
    // first thousands of messages, on background threads that compete for this machine's cores; a
    // bridge in service has done so long before. Measured fresh, the bridge's CPU per message is
    // mostly that compilation (3.8 s of TurboFan work in a 700-message run).
    if (warmUp > 0) {
      console.log(`e2e: warm-up burst of ${warmUp} per pair (not measured)`);
      await burstOf(basePair, warmUp, "warm-up burst");
      await burstOf(bridgedPair, warmUp, "warm-up burst");
    }

    const idle = await idleCpu({
      "Alice plain": baseAlice.pid,
      "Alice bridged": alice.pid,
      bridge: bridge.pid,
      Redis: redis.pid,
    });
    console.log(
      `[e2e] idle CPU (ms per second, no traffic): ${Object.entries(idle)
        .map(([name, ms]) => `${name} ${ms}`)
        .join(", ")}`,
    );

    // Every Redis command of the bridged pair's measured messages (shim, relay and deliverer alike).
    const redisStats = new Redis(redis.url);
    stops.push(() => redisStats.quit());
    await redisStats.config("RESETSTAT");

    const latencies = { baseline: [] as number[], bridged: [] as number[] };
    const bursts = { baseline: [] as BurstFigures[], bridged: [] as BurstFigures[] };
    const tripsPerRound = Math.ceil(roundTripCount / rounds);
    for (let round = 1; round <= rounds; round++) {
      // Which pair goes first alternates too: the second of a round may find the machine warmer.
      const order = round % 2 ? [basePair, bridgedPair] : [bridgedPair, basePair];
      for (const pair of order) {
        const key = pair === basePair ? "baseline" : "bridged";
        latencies[key].push(...(await roundTrips(pair, tripsPerRound, `round ${round} trip`)));
        const figures = await burstOf(pair, burst, `round ${round} burst`);
        bursts[key].push(figures);
        console.log(
          `[e2e] round ${round}/${rounds} ${key.padEnd(8)}: ${figures.throughputPerSecond.toFixed(1)} msg/s, CPU per message: Bob ${round2(figures.bobCpuMsPerMessage)} ms, Alice ${round2(figures.aliceCpuMsPerMessage)} ms${figures.bridgeCpuMsPerMessage === undefined ? "" : `, bridge ${round2(figures.bridgeCpuMsPerMessage)} ms, Redis ${round2(figures.redisCpuMsPerMessage)} ms`}`,
        );
      }
    }

    const bridgedMessages = latencies.bridged.length + burst * rounds;
    const redisCommands = commandCounts(String(await redisStats.info("commandstats")));
    const redisCommandsPerMessage = Object.fromEntries(
      Object.entries(redisCommands)
        .sort((a, b) => b[1] - a[1])
        .map(([command, calls]) => [command, Number((calls / bridgedMessages).toFixed(2))]),
    );
    const redisCallsPerMessage = Number(
      (Object.values(redisCommands).reduce((sum, n) => sum + n, 0) / bridgedMessages).toFixed(1),
    );
    console.log(
      `[e2e] Redis commands per bridged round trip (shim, relay, deliverer): ${redisCallsPerMessage} ${JSON.stringify(redisCommandsPerMessage)}`,
    );

    const baseline = { ...latencyFigures(latencies.baseline), ...burstSummary(bursts.baseline) };
    const bridged = {
      ...latencyFigures(latencies.bridged),
      ...burstSummary(bursts.bridged),
      redisCallsPerMessage,
      redisCommandsPerMessage,
    };
    console.log(
      `baseline (ACA-Py's own HTTP):  p50 ${baseline.p50Ms} ms, p99 ${baseline.p99Ms} ms, ${baseline.throughputPerSecond} msg/s (median of ${rounds})`,
    );
    console.log(
      `Alice behind acapy-bridge:    p50 ${bridged.p50Ms} ms, p99 ${bridged.p99Ms} ms, ${bridged.throughputPerSecond} msg/s (median of ${rounds})`,
    );

    const addedP50Ms = Number((bridged.p50Ms - baseline.p50Ms).toFixed(2));
    const throughputRatio = Number((bridged.throughputPerSecond / baseline.throughputPerSecond).toFixed(2));
    console.log(`added latency p50 ${addedP50Ms} ms; throughput ratio ${throughputRatio}`);
    console.log(
      `CPU per message of the whole pair (Bob, Alice and, bridged, the bridge and Redis): baseline ${baseline.pairCpuMsPerMessage} ms, bridged ${bridged.pairCpuMsPerMessage} ms`,
    );
    console.log(
      JSON.stringify({
        bench: "e2e",
        roundTrips: tripsPerRound * rounds,
        burst,
        rounds,
        warmUp,
        idleCpuMsPerSecond: idle,
        bridge: bridged,
        baseline,
        addedP50Ms,
        throughputRatio,
        targets: { addedP50Ms: 5, throughputRatio: 1 },
        meetsLatencyTarget: addedP50Ms < 5,
        meetsThroughputTarget: throughputRatio >= 1,
      }),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}
