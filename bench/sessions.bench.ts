// `npm run bench -- sessions [--sessions 10000] [--rate 1000] [--duration-ms 10000]`
//
// Up to 100,000 sessions and more: the clients spread over loopback source addresses
// (127.0.0.1, .2, ...; one per SESSIONS_PER_SOURCE_ADDRESS, as one source address has about
// 28,000 ephemeral ports), and the bench raises its own open-files limit (see open-files-limit.ts).
//
// Mobile wallets' sessions on one relay process (`acapy-bridge relay`, a real
// child process): resident memory with N idle WebSocket sessions, then push
// latency from the moment a message is handed to Redis (as the shim does: one
// `inbox_push` script per SocketPush) until the wallet has the frame, at a
// steady rate spread over every session. Baseline, same run, same clients: a
// bare Node `ws` server holding the same sessions and pushing entries of one
// Redis stream (XREAD) to them, with no tags, confirmations or acknowledgements.
// The last line is one JSON object with the figures, the ratios and the targets.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import {
  AgentMessageSchema,
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  decodeEnvelope,
  encodeEnvelope,
  ensureTopology,
  type Keyspace,
  luaPipeline,
  newMessageId,
  type RedisClient,
  RelayCommandSchema,
  registerScripts,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { BridgeProcess, loopbackBridgeArgs, RedisServer, uniquePrefix } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { WebSocket } from "ws";
import { fakeJwe, randomVerkey } from "../packages/relay/test-fixtures/fake-envelopes.js";
import { percentile, quantileCurve } from "./figures.js";
import { ensureOpenFilesLimit } from "./open-files-limit.js";

const RELAY_ID = "bench-relay";
/** Below the ~28,000 ephemeral ports (32768-60999) one source address has towards one listener. */
const SESSIONS_PER_SOURCE_ADDRESS = 25_000;
const BASELINE_ID = "bench-baseline";
const MiB = 1024 * 1024;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Number(line?.replace(/\D+/g, "") ?? 0) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wall-clock milliseconds with sub-millisecond resolution (one process sends and receives). */
const nowMs = () => performance.timeOrigin + performance.now();

/** N simulated wallets' sockets; every frame they receive carries its send time. */
class Wallets {
  readonly sockets: WebSocket[] = [];
  readonly latencies: number[] = [];
  received = 0;
  recording = false;

  async open(
    count: number,
    urlOf: (i: number) => string,
    hello?: (i: number) => Buffer,
    sourceAddressOf: (i: number) => string = () => "127.0.0.1",
  ): Promise<void> {
    const started = Date.now();
    let next = 0;
    const openOne = async () => {
      while (next < count) {
        const i = next++;
        const ws = new WebSocket(urlOf(i), { perMessageDeflate: false, localAddress: sourceAddressOf(i) });
        await new Promise<void>((resolve, reject) => {
          ws.once("open", () => resolve());
          ws.once("error", reject);
        });
        ws.on("message", (data: Buffer) => this.onFrame(data));
        ws.on("error", () => undefined);
        if (hello) ws.send(hello(i));
        this.sockets[i] = ws;
        if ((i + 1) % 2000 === 0) {
          console.log(`[sessions]   ${i + 1}/${count} sockets open (${Date.now() - started} ms)`);
        }
      }
    };
    await Promise.all(Array.from({ length: 100 }, openOne));
  }

  private onFrame(data: Buffer): void {
    this.received++;
    if (!this.recording) return;
    const sentAt = Number(JSON.parse(data.toString()).t);
    this.latencies.push(nowMs() - sentAt);
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws?.terminate();
    this.sockets.length = 0;
    await sleep(500);
  }
}

/** Writes `rate` pushes per second for `durationMs`, in 10 ms ticks, one pipeline per tick. */
async function drive(
  client: RedisClient,
  rate: number,
  durationMs: number,
  queueOne: (pipeline: ReturnType<RedisClient["pipeline"]>, seq: number) => void,
): Promise<number> {
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < durationMs) {
    const due = Math.floor(((Date.now() - started) * rate) / 1000);
    if (due > sent) {
      const pipeline = client.pipeline();
      for (; sent < due; sent++) queueOne(pipeline, sent);
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error);
      if (failed) throw failed[0];
    }
    await sleep(10);
  }
  return sent;
}

async function waitForDelivery(wallets: Wallets, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (wallets.received < expected && Date.now() < deadline) await sleep(20);
}

interface PushFigures {
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** [percentile, ms] pairs: the distribution, for the report's chart. */
  curve: Array<[number, number]>;
}

function pushFigures(wallets: Wallets, sent: number): PushFigures {
  const sorted = [...wallets.latencies].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    sent,
    received: wallets.latencies.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1) ?? Number.NaN),
    curve: quantileCurve(sorted),
  };
}

/** Reads the sessions' hello frames from the inbound partitions: wallet index -> the relay's socket id. */
async function socketIdsOf(client: RedisClient, keyspace: Keyspace, kids: string[], timeoutMs: number) {
  const indexOf = new Map(kids.map((kid, i) => [kid, i]));
  const socketIds: string[] = [];
  const field = keyspace.spec("inboundQueue").entryField;
  const deadline = Date.now() + timeoutMs;
  let found = 0;
  while (found < kids.length && Date.now() < deadline) {
    found = 0;
    for (const stream of keyspace.allPartitions("inboundQueue")) {
      for (const [, fields] of await client.xrangeBuffer(stream, "-", "+")) {
        for (let i = 0; i < fields.length; i += 2) {
          if (fields[i]?.toString() !== field) continue;
          const message = decodeEnvelope(AgentMessageSchema, fields[i + 1] as Buffer);
          const index = indexOf.get(message.recipientKey);
          if (index !== undefined && !socketIds[index]) {
            socketIds[index] = message.socketId;
          }
        }
      }
    }
    found = socketIds.filter(Boolean).length;
    if (found < kids.length) await sleep(200);
  }
  if (found < kids.length) throw new Error(`only ${found}/${kids.length} sessions reached the inbound partitions`);
  return socketIds;
}

async function startBaseline(redisUrl: string, stream: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [new URL("./sessions-baseline-server.mjs", import.meta.url).pathname, redisUrl, stream],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`baseline server exited with ${code}`)));
    child.stdout?.once("data", (chunk: Buffer) => resolve(Number(JSON.parse(chunk.toString()).port)));
  });
  return { child, port };
}

export async function main(args: string[]): Promise<void> {
  const sessions = option(args, "sessions", 10_000);
  const rate = option(args, "rate", 1_000);
  const durationMs = option(args, "duration-ms", 10_000);
  const warmupMs = 2_000;
  // One descriptor per session in each process (the clients here, the relay, the baseline server),
  // and room for the rest (Redis clients, listeners, files).
  const openFiles = ensureOpenFilesLimit(sessions + 1_024);
  const sourceAddresses = Array.from(
    { length: Math.ceil(sessions / SESSIONS_PER_SOURCE_ADDRESS) },
    (_, i) => `127.0.0.${i + 1}`,
  );
  const sourceAddressOf = (i: number) => sourceAddresses[i % sourceAddresses.length] as string;
  console.log(
    `[sessions] ${sessions} sessions from ${sourceAddresses.length} source address(es); open files limit ${openFiles}`,
  );
  const redis = await RedisServer.start();
  const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
  registerScripts(client);
  // A commands client queues nothing while it connects: topology's SET would fail at once.
  await waitUntilReady(client);
  const prefix = uniquePrefix("bench-sessions");
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  const kids = Array.from({ length: sessions }, () => randomVerkey());
  let relay: BridgeProcess | undefined;
  let baseline: ChildProcess | undefined;
  try {
    // ---- the relay ----
    relay = await BridgeProcess.start(
      "relay",
      loopbackBridgeArgs("relay", redis.url, prefix, [
        "--instance-id",
        RELAY_ID,
        // An operator of a large mediator raises these too (docs/operations.md, "Many sessions per relay").
        "--max-connections",
        String(sessions + 1_000),
        "--limit-exempt-ips",
        sourceAddresses.join(","),
      ]),
    );
    const relayPid = relay.pid as number;
    await sleep(1000);
    const relayIdle0 = residentBytes(relayPid);
    console.log(`[sessions] relay pid ${relayPid}: ${(relayIdle0 / MiB).toFixed(1)} MiB resident with no sessions`);
    const relayWallets = new Wallets();
    const relayUrl = `ws://${relay.address("http")}/`;
    await relayWallets.open(
      sessions,
      () => relayUrl,
      (i) => fakeJwe(kids[i] as string, "Authcrypt", 64),
      sourceAddressOf,
    );
    const socketIds = await socketIdsOf(client, keyspace, kids, Math.max(60_000, sessions * 2));
    await sleep(3000); // a heartbeat round on every socket
    const relayIdle = residentBytes(relayPid);
    console.log(
      `[sessions] relay: ${sessions} idle sessions, ${(relayIdle / MiB).toFixed(1)} MiB resident ` +
        `(${Math.round((relayIdle - relayIdle0) / sessions)} bytes per session)`,
    );

    const inboxKey = keyspace.key("relayInbox", { relay: RELAY_ID });
    const inboxField = keyspace.spec("relayInbox").entryField;
    const queueRelayPush = (pipeline: ReturnType<RedisClient["pipeline"]>, seq: number) => {
      const i = seq % sessions;
      const command = create(RelayCommandSchema, {
        command: {
          case: "push",
          value: {
            socketId: socketIds[i] as string,
            message: {
              mid: newMessageId(),
              recipientKey: kids[i] as string,
              contentType: "application/json",
              body: Buffer.from(JSON.stringify({ seq, t: nowMs() })),
              createdAtMs: BigInt(Date.now()),
            },
          },
        },
      });
      luaPipeline.inboxPush(pipeline, {
        inbox: inboxKey,
        entryField: inboxField,
        command: encodeEnvelope(RelayCommandSchema, command),
      });
    };
    console.log(`[sessions] relay: pushing ${rate}/s across ${sessions} sessions for ${durationMs} ms`);
    let sent = await drive(client, rate, warmupMs, queueRelayPush);
    await waitForDelivery(relayWallets, sent, 10_000);
    relayWallets.recording = true;
    const relayBase = relayWallets.received;
    const relaySent = await drive(client, rate, durationMs, (p, seq) => queueRelayPush(p, sent + seq));
    sent += relaySent;
    await waitForDelivery(relayWallets, relayBase + relaySent, 30_000);
    const relayPush = pushFigures(relayWallets, relaySent);
    const relayBusy = residentBytes(relayPid);
    console.log(`[sessions] relay push: ${JSON.stringify(relayPush)}; ${(relayBusy / MiB).toFixed(1)} MiB resident`);
    await relayWallets.close();
    await relay.stop();
    relay = undefined;

    // ---- the baseline: a bare ws server on the same Redis ----
    const baselineStream = keyspace.key("relayInbox", { relay: BASELINE_ID });
    const started = await startBaseline(redis.url, baselineStream);
    baseline = started.child;
    const baselinePid = baseline.pid as number;
    await sleep(1000);
    const baseIdle0 = residentBytes(baselinePid);
    const baseWallets = new Wallets();
    await baseWallets.open(sessions, (i) => `ws://127.0.0.1:${started.port}/?session=${i}`, undefined, sourceAddressOf);
    await sleep(3000);
    const baseIdle = residentBytes(baselinePid);
    console.log(
      `[sessions] baseline: ${sessions} idle sessions, ${(baseIdle / MiB).toFixed(1)} MiB resident ` +
        `(${Math.round((baseIdle - baseIdle0) / sessions)} bytes per session)`,
    );
    const queueBaselinePush = (pipeline: ReturnType<RedisClient["pipeline"]>, seq: number) => {
      const body = Buffer.from(JSON.stringify({ seq, t: nowMs() }));
      pipeline.xadd(baselineStream, "*", "s", String(seq % sessions), "b", body);
    };
    let baseSent = await drive(client, rate, warmupMs, queueBaselinePush);
    await waitForDelivery(baseWallets, baseSent, 10_000);
    baseWallets.recording = true;
    const measured = await drive(client, rate, durationMs, (p, seq) => queueBaselinePush(p, baseSent + seq));
    baseSent += measured;
    await waitForDelivery(baseWallets, baseSent, 30_000);
    const basePush = pushFigures(baseWallets, measured);
    console.log(`[sessions] baseline push: ${JSON.stringify(basePush)}`);
    await baseWallets.close();

    const perSession = (idle: number, empty: number) => Math.round((idle - empty) / sessions);
    const summary = {
      bench: "sessions",
      sessions,
      ratePerSecond: rate,
      durationMs,
      relay: {
        residentMiB: Math.round(relayIdle / MiB),
        bytesPerSession: perSession(relayIdle, relayIdle0),
        residentUnderLoadMiB: Math.round(relayBusy / MiB),
        push: relayPush,
      },
      baseline: {
        residentMiB: Math.round(baseIdle / MiB),
        bytesPerSession: perSession(baseIdle, baseIdle0),
        push: basePush,
      },
      memoryPerSessionRatio:
        Math.round((perSession(relayIdle, relayIdle0) / Math.max(1, perSession(baseIdle, baseIdle0))) * 100) / 100,
      pushP99Ratio: Math.round((relayPush.p99Ms / basePush.p99Ms) * 100) / 100,
      lost: relayPush.sent - relayPush.received,
      targets: {
        residentUnder1GiB: relayIdle < 1024 * MiB,
        pushP99Under50Ms: relayPush.p99Ms < 50,
      },
    };
    console.log(JSON.stringify(summary));
  } finally {
    await relay?.stop();
    baseline?.kill("SIGTERM");
    await closeRedisClient(client);
    await redis.stop();
  }
}
