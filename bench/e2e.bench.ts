// `npm run bench -- e2e [--round-trips 100] [--burst 300]`
//
// Bob -> Alice -> Bob: Bob sends a basic message, Alice's
// --auto-respond-messages reply comes back, observed at Bob's webhook sink.
// Measured twice in the same run: Alice entirely behind acapy-bridge (`all`,
// the shim's inbound and outbound transports), and the baseline, Alice on
// ACA-Py's own HTTP transports. Latency: sequential round trips. Throughput:
// a burst sent by 8 concurrent senders, timed until every reply arrived.
// The last line is one JSON object with the figures and the bridge's cost.
import {
  AcaPyAdmin,
  AcaPyProcess,
  aliceBehindBridgeArgs,
  BridgeProcess,
  connectAgents,
  freePort,
  loopbackBridgeArgs,
  RedisServer,
  uniquePrefix,
  WebhookSink,
} from "@acapy-bridge/test-harness";

interface Figures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  throughputPerSecond: number;
}

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function waitForCount(sink: WebhookSink, count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (sink.byTopic("basicmessages").length < count) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** Round trips and a burst from Bob to an Alice (whatever her transports) and back. */
async function measure(
  alice: AcaPyAdmin,
  bob: AcaPyAdmin,
  bobHooks: WebhookSink,
  roundTrips: number,
  burst: number,
): Promise<Figures> {
  const { inviteeConnectionId: bobConn } = await connectAgents(alice, bob);
  const base = bobHooks.byTopic("basicmessages").length;
  // Warm-up: connections, caches and JIT, not measured.
  for (let i = 0; i < 5; i++) {
    await bob.sendMessage(bobConn, `warm-up ${i}`);
    await waitForCount(bobHooks, base + i + 1, 30_000);
  }
  const latencies: number[] = [];
  let seen = base + 5;
  for (let i = 0; i < roundTrips; i++) {
    const sentAt = performance.now();
    await bob.sendMessage(bobConn, `round trip ${i}`);
    if (!(await waitForCount(bobHooks, seen + 1, 30_000))) throw new Error(`reply ${i} did not arrive`);
    latencies.push(performance.now() - sentAt);
    seen++;
  }
  const burstStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < burst) {
        const i = next++;
        await bob.sendMessage(bobConn, `burst ${i}`);
      }
    }),
  );
  if (!(await waitForCount(bobHooks, seen + burst, 120_000))) throw new Error("burst replies did not all arrive");
  const burstSeconds = (performance.now() - burstStart) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    p50Ms: Number(percentile(latencies, 50).toFixed(2)),
    p99Ms: Number(percentile(latencies, 99).toFixed(2)),
    meanMs: Number((latencies.reduce((s, v) => s + v, 0) / latencies.length).toFixed(2)),
    throughputPerSecond: Number((burst / burstSeconds).toFixed(1)),
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
  const roundTrips = option(args, "round-trips", 100);
  const burst = option(args, "burst", 300);
  const stops: (() => Promise<unknown>)[] = [];
  try {
    console.log(`e2e: ${roundTrips} sequential round trips and a burst of ${burst}, Bob -> Alice -> Bob`);

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
    const baseline = await measure(
      new AcaPyAdmin(baseAlice.adminUrl),
      new AcaPyAdmin(baseBob.adminUrl),
      baseBobHooks,
      roundTrips,
      burst,
    );
    console.log(
      `baseline (ACA-Py's own HTTP):  p50 ${baseline.p50Ms} ms, p99 ${baseline.p99Ms} ms, ${baseline.throughputPerSecond} msg/s`,
    );
    await Promise.all([baseAlice.stop(), baseBob.stop()]);

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
    const bridged = await measure(
      new AcaPyAdmin(alice.adminUrl),
      new AcaPyAdmin(bob.adminUrl),
      bobHooks,
      roundTrips,
      burst,
    );
    console.log(
      `Alice behind acapy-bridge:    p50 ${bridged.p50Ms} ms, p99 ${bridged.p99Ms} ms, ${bridged.throughputPerSecond} msg/s`,
    );

    const addedP50Ms = Number((bridged.p50Ms - baseline.p50Ms).toFixed(2));
    const throughputRatio = Number((bridged.throughputPerSecond / baseline.throughputPerSecond).toFixed(2));
    console.log(`added latency p50 ${addedP50Ms} ms; throughput ratio ${throughputRatio}`);
    console.log(
      JSON.stringify({
        bench: "e2e",
        roundTrips,
        burst,
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
