// `npm run bench -- admin [--calls 300] [--rounds 4] [--concurrency 2] [--warm-up 100]`
//
// ACA-Py's admin API through the relay's admin port (the call goes through Redis to the shim,
// which runs it in ACA-Py's own admin application in-process) against the same ACA-Py's own
// admin port, same run, same process. Two cheap calls: `GET /status` and `GET /connections` (a
// wallet read, 10 connection records). Throughput: 2 concurrent callers by default: at 8, on a
// 2-core machine under load, ACA-Py's own admin port answered 500 and 504 (its sqlite wallet's
// sessions timed out), so the figure would be ACA-Py's overload, not the bridge's cost. Latency: `calls` sequential calls per round; throughput:
// `calls` calls by `concurrency` concurrent callers. Rounds alternate which side goes first
// (AB BA ...), so that a busy spell of a small machine hits both alike; the figures are the
// medians of the rounds. The last line is one JSON object; target: added p50 < 3 ms.
import {
  AcaPyAdmin,
  AcaPyProcess,
  aliceBehindBridgeArgs,
  BridgeProcess,
  loopbackBridgeArgs,
  RedisServer,
  uniquePrefix,
} from "@acapy-bridge/test-harness";
import { numberOption } from "./bench-options.js";
import { median, percentile } from "./figures.js";

interface Figures {
  p50Ms: number;
  p99Ms: number;
  callsPerSecond: number;
  /** Answers other than 200 (counted in the figures all the same). */
  failures: number;
}

/** Non-200 answers per URL: ACA-Py's sqlite wallet times sessions out (500) when the machine is overloaded. */
const failures = new Map<string, number>();

async function call(url: string): Promise<void> {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (res.status !== 200) failures.set(url, (failures.get(url) ?? 0) + 1);
}

async function sequential(url: string, calls: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await call(url);
    latencies.push(performance.now() - started);
  }
  return latencies.sort((a, b) => a - b);
}

async function concurrent(url: string, calls: number, concurrency: number): Promise<number> {
  let left = calls;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await call(url);
    }),
  );
  return calls / ((performance.now() - started) / 1000);
}

async function measure(url: string, calls: number, concurrency: number): Promise<Figures> {
  const failedBefore = failures.get(url) ?? 0;
  const latencies = await sequential(url, calls);
  return {
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    callsPerSecond: Math.round(await concurrent(url, calls, concurrency)),
    failures: (failures.get(url) ?? 0) - failedBefore,
  };
}

function medianFigures(rounds: Figures[]): Figures {
  return {
    p50Ms: Number(median(rounds.map((r) => r.p50Ms)).toFixed(2)),
    p99Ms: Number(median(rounds.map((r) => r.p99Ms)).toFixed(2)),
    callsPerSecond: Math.round(median(rounds.map((r) => r.callsPerSecond))),
    failures: rounds.reduce((sum, r) => sum + r.failures, 0),
  };
}

export async function main(args: string[]): Promise<void> {
  const calls = numberOption(args, "calls", 300);
  const rounds = numberOption(args, "rounds", 4);
  const concurrency = numberOption(args, "concurrency", 2);
  const warmUp = numberOption(args, "warm-up", 100);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const redis = await RedisServer.start();
    stops.push(() => redis.stop());
    const prefix = uniquePrefix("bench-admin");
    const relay = await BridgeProcess.start(
      "relay",
      loopbackBridgeArgs("relay", redis.url, prefix, ["--admin-port", "0"]),
    );
    stops.push(() => relay.stop());
    const alice = await AcaPyProcess.start({
      label: "alice",
      args: aliceBehindBridgeArgs(redis.url, prefix, `http://${relay.address("http")}`),
    });
    stops.push(() => alice.stop());
    // 10 connection records for GET /connections to read.
    const admin = new AcaPyAdmin(alice.adminUrl);
    for (let i = 0; i < 10; i++) await admin.createInvitation(`bench-${i}`);

    const sides = { direct: alice.adminUrl, relay: `http://${relay.address("admin")}` };
    const results: Record<string, Record<"direct" | "relay", Figures[]>> = {};
    for (const path of ["/status", "/connections"]) {
      results[path] = { direct: [], relay: [] };
      for (const side of ["direct", "relay"] as const) {
        await concurrent(`${sides[side]}${path}`, warmUp, concurrency);
      }
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? (["direct", "relay"] as const) : (["relay", "direct"] as const);
        for (const side of order) {
          results[path][side].push(await measure(`${sides[side]}${path}`, calls, concurrency));
        }
      }
    }

    const summary: Record<string, { direct: Figures; relay: Figures; addedP50Ms: number }> = {};
    for (const [path, bySide] of Object.entries(results)) {
      const direct = medianFigures(bySide.direct);
      const viaRelay = medianFigures(bySide.relay);
      const addedP50Ms = Number((viaRelay.p50Ms - direct.p50Ms).toFixed(2));
      summary[path] = { direct, relay: viaRelay, addedP50Ms };
      console.log(
        `GET ${path}: ACA-Py's admin port p50 ${direct.p50Ms} ms, p99 ${direct.p99Ms} ms, ${direct.callsPerSecond} calls/s; ` +
          `through the relay p50 ${viaRelay.p50Ms} ms, p99 ${viaRelay.p99Ms} ms, ${viaRelay.callsPerSecond} calls/s; ` +
          `added p50 ${addedP50Ms} ms (median of ${rounds} rounds of ${calls}; non-200: ${direct.failures} direct, ${viaRelay.failures} relay)`,
      );
    }
    const worstAddedP50Ms = Math.max(...Object.values(summary).map((s) => s.addedP50Ms));
    console.log(
      JSON.stringify({
        bench: "admin",
        calls,
        rounds,
        concurrency,
        warmUp,
        results: summary,
        worstAddedP50Ms,
        targets: { addedP50Ms: 3 },
        meetsLatencyTarget: worstAddedP50Ms < 3,
      }),
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}
