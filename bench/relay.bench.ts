// `npm run bench -- relay [--duration-ms 3000]`
//
// Ingress: messages/s and p50/p99 at 1, 64 and 256 concurrent keep-alive
// senders against the relay (POST /, anoncrypted bodies: the relay answers
// right after its write) and against a baseline, a bare Node HTTP server doing
// the same single Redis write per request (the enqueue script with its dedup
// marker, on the same partitions). Direct response: the round trip relay ->
// Redis -> echo consumer -> Redis -> relay (authcrypted bodies: the relay waits
// for the reply). The last line is one JSON object with the figures and ratios.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { createMetricsRegistry, Health, ShutdownCoordinator, silentLogger } from "@acapy-bridge/operability";
import {
  AgentMessageSchema,
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  encodeEnvelope,
  enqueueEnvelope,
  ensureTopology,
  InboundKind,
  newMessageId,
  partitionOf,
  type RedisClient,
  Transport,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { DEFAULT_RELAY_CONFIG, startRelay } from "@acapy-bridge/relay";
import { RedisServer } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { EchoConsumer } from "../packages/relay/test-fixtures/echo-consumer.js";
import { base58 } from "../packages/relay/test-fixtures/fake-envelopes.js";

interface LoadResult {
  count: number;
  errors: number;
  statuses: Record<string, number>;
  perSecond: number;
  p50: number;
  p99: number;
}

function load(url: string, concurrency: number, durationMs: number, alg: string, kids: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./relay-load-worker.mjs", import.meta.url), {
      workerData: { url, concurrency, durationMs, alg, kidPool: kids },
    });
    worker.once("message", (result: LoadResult) => resolve(result));
    worker.once("error", reject);
  });
}

/** The baseline: read the body, one enqueue script call, answer 200. */
async function startBaseline(client: RedisClient, prefix: string): Promise<{ url: string; close: () => void }> {
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  const field = keyspace.spec("inboundQueue").entryField;
  const count = keyspace.partitionCount("inboundQueue");
  const { createHash } = await import("node:crypto");
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const digest = createHash("sha256").update(body).digest("hex");
      const partition = partitionOf(digest, count);
      const message = create(AgentMessageSchema, {
        mid: newMessageId(),
        kind: InboundKind.AGENT_MESSAGE,
        recipientKey: digest,
        contentType: req.headers["content-type"] ?? "",
        body,
        receivedAtMs: BigInt(Date.now()),
        transport: Transport.HTTP,
      });
      enqueueEnvelope(client, {
        stream: keyspace.key("inboundQueue", { partition }),
        seenKey: keyspace.key("inboundSeen", { partition, digest }),
        seenTtlMs: 600_000,
        entryField: field,
        payload: encodeEnvelope(AgentMessageSchema, message),
        highWaterMark: 0,
      }).then(
        () => res.writeHead(200).end(),
        () => res.writeHead(503).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function dropStreams(client: RedisClient, prefix: string): Promise<void> {
  const keyspace = await ensureTopology(client, prefix, DEFAULT_PARTITIONS);
  await client.del(...keyspace.allPartitions("inboundQueue"));
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export async function main(args: string[]): Promise<void> {
  const durationIndex = args.indexOf("--duration-ms");
  const durationMs = durationIndex >= 0 ? Number(args[durationIndex + 1]) : 3000;
  const levels = [1, 64, 256];
  const kids = Array.from({ length: 512 }, () => base58(randomBytes(32)));
  const redis = await RedisServer.start();
  const client = createRedisClient({ url: redis.url, cluster: false }, "commands");
  await waitUntilReady(client);
  const baseline = await startBaseline(client, "bench-base");
  const logger = silentLogger();
  const relay = await startRelay(
    { ...DEFAULT_RELAY_CONFIG, httpPort: 0, inboundHighWaterMark: 0 },
    { redis: { url: redis.url, cluster: false }, prefix: "bench-relay", partitions: DEFAULT_PARTITIONS },
    {
      instanceId: "relay-bench",
      logger,
      metrics: createMetricsRegistry({}),
      health: new Health(),
      shutdown: new ShutdownCoordinator(logger),
    },
  );
  const relayUrl = `http://127.0.0.1:${relay.httpAddress.port}`;
  console.log(`redis ${redis.url}; ${durationMs} ms per level; load generator in a worker thread`);

  const ingress: Record<string, { relay: LoadResult; baseline: LoadResult; ratio: number }> = {};
  try {
    for (const c of levels) {
      await load(baseline.url, c, 500, "Anoncrypt", kids); // warm-up
      const base = await load(baseline.url, c, durationMs, "Anoncrypt", kids);
      await dropStreams(client, "bench-base");
      await load(relayUrl, c, 500, "Anoncrypt", kids);
      const mine = await load(relayUrl, c, durationMs, "Anoncrypt", kids);
      await dropStreams(client, "bench-relay");
      const ratio = mine.perSecond / base.perSecond;
      ingress[String(c)] = { relay: mine, baseline: base, ratio };
      console.log(
        `ingress c=${String(c).padStart(3)}  relay ${mine.perSecond.toFixed(0).padStart(6)} msg/s ` +
          `p50 ${mine.p50.toFixed(2)} ms p99 ${mine.p99.toFixed(2)} ms | baseline ${base.perSecond.toFixed(0).padStart(6)} msg/s ` +
          `p50 ${base.p50.toFixed(2)} ms p99 ${base.p99.toFixed(2)} ms | ratio ${ratio.toFixed(2)} ` +
          `(errors ${mine.errors + base.errors}, statuses ${JSON.stringify(mine.statuses)})`,
      );
    }

    // Direct responses: an echo consumer stands in for the shim.
    const keyspace = await ensureTopology(client, "bench-relay", DEFAULT_PARTITIONS);
    const blocking = Array.from({ length: keyspace.partitionCount("inboundQueue") }, () =>
      createRedisClient({ url: redis.url, cluster: false }, "blocking"),
    );
    const echo = new EchoConsumer(blocking, client, keyspace, () => ({
      status: 200,
      contentType: "application/didcomm-envelope-enc",
      body: Buffer.from('{"protected":"reply"}'),
    }));
    await echo.start();
    await load(relayUrl, 1, 500, "Authcrypt", kids);
    const rt1 = await load(relayUrl, 1, durationMs, "Authcrypt", kids);
    const rt64 = await load(relayUrl, 64, durationMs, "Authcrypt", kids);
    await echo.stop();
    await Promise.all(blocking.map((b) => closeRedisClient(b)));
    const overhead = rt1.p50 - (ingress["1"]?.relay.p50 ?? 0);
    console.log(
      `direct response c=1   ${rt1.perSecond.toFixed(0)} msg/s p50 ${rt1.p50.toFixed(2)} ms p99 ${rt1.p99.toFixed(2)} ms ` +
        `(overhead over ingress p50: ${overhead.toFixed(2)} ms)`,
    );
    console.log(
      `direct response c=64  ${rt64.perSecond.toFixed(0)} msg/s p50 ${rt64.p50.toFixed(2)} ms p99 ${rt64.p99.toFixed(2)} ms`,
    );
    console.log(
      JSON.stringify({
        bench: "relay",
        durationMsPerLevel: durationMs,
        ingress: Object.fromEntries(
          Object.entries(ingress).map(([c, r]) => [
            c,
            {
              relayPerSecond: round(r.relay.perSecond, 0),
              relayP50Ms: round(r.relay.p50),
              relayP99Ms: round(r.relay.p99),
              baselinePerSecond: round(r.baseline.perSecond, 0),
              baselineP50Ms: round(r.baseline.p50),
              baselineP99Ms: round(r.baseline.p99),
              ratio: round(r.ratio),
            },
          ]),
        ),
        ratioAt64: round(ingress["64"]?.ratio ?? 0),
        targetRatioAt64: 0.7,
        directResponse: {
          c1: { perSecond: round(rt1.perSecond, 0), p50Ms: round(rt1.p50), p99Ms: round(rt1.p99) },
          c64: { perSecond: round(rt64.perSecond, 0), p50Ms: round(rt64.p50), p99Ms: round(rt64.p99) },
          overheadP50Ms: round(overhead),
          targetOverheadP50Ms: 2,
        },
      }),
    );
  } finally {
    await relay.stop();
    baseline.close();
    await closeRedisClient(client);
    await redis.stop();
  }
}
