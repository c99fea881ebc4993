// Shared by the deliverer's tests: an in-process deliverer with short timings,
// a recording HTTP sink, and job helpers. Every key comes from the Keyspace.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import {
  createLogger,
  createMetricsRegistry,
  Health,
  type LogLevel,
  type ProcessServices,
  ShutdownCoordinator,
} from "@acapy-bridge/operability";
import {
  type BridgeConnectionConfig,
  closeRedisClient,
  createRedisClient,
  decodeEnvelope,
  encodeEnvelope,
  enqueueEnvelope,
  ensureTopology,
  JobKind,
  type Keyspace,
  lua,
  newMessageId,
  type OutboundJob,
  OutboundJobSchema,
  partitionOf,
  type RedisClient,
  readGroup,
  type StreamEntry,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { AckBatcher } from "../src/ack-batcher.js";
import { createDelivererMetrics } from "../src/deliverer-metrics.js";
import { DEFAULT_DELIVERER_CONFIG, type DelivererConfig } from "../src/deliverer-options.js";
import { EndpointDelivery } from "../src/endpoint-delivery.js";
import { PartitionWorker, type PartitionWorkerOptions } from "../src/outbound-consumer.js";
import { PartitionScripts } from "../src/partition-scripts.js";
import { type RunningDeliverer, startDeliverer } from "../src/start-deliverer.js";

export const TEST_PARTITIONS = { inboundPartitions: 4, outboundPartitions: 8, eventPartitions: 2, adminPartitions: 1 };

/** What the tests' endpoints listen on; the target policy refuses it unless allowed. */
export const LOOPBACK_CIDRS = ["127.0.0.0/8", "::1/128"];

/**
 * Short timings so that retries, takeovers and timeouts happen within a test; the tests' endpoints
 * are on loopback, allowed explicitly (the default refuses it).
 */
export const FAST_CONFIG: DelivererConfig = {
  ...DEFAULT_DELIVERER_CONFIG,
  outboundAllowCidrs: LOOPBACK_CIDRS,
  connectTimeoutMs: 1_000,
  totalTimeoutMs: 2_000,
  maxAttempts: 5,
  backoffBaseMs: 50,
  backoffCapMs: 400,
  maxRetryAfterMs: 2_000,
  leaseTtlMs: 2_000,
  heartbeatMs: 300,
  blockMs: 500,
  retryPollMs: 50,
};

export function connectionFor(
  url: string,
  prefix: string,
  cluster = false,
  partitions = TEST_PARTITIONS,
): BridgeConnectionConfig {
  return { redis: { url, cluster }, prefix, partitions };
}

export function testServices(instanceId: string, level: LogLevel = "silent"): ProcessServices {
  const logger = createLogger({ component: "deliverer-test", instance: instanceId, level });
  return {
    instanceId,
    logger,
    metrics: createMetricsRegistry(),
    health: new Health(),
    shutdown: new ShutdownCoordinator(logger),
  };
}

export async function startTestDeliverer(
  connection: BridgeConnectionConfig,
  instanceId: string,
  overrides: Partial<DelivererConfig> = {},
): Promise<{ deliverer: RunningDeliverer; services: ProcessServices }> {
  const services = testServices(instanceId, (process.env.DELIVERER_TEST_LOG_LEVEL as LogLevel) ?? "silent");
  const deliverer = await startDeliverer({ ...FAST_CONFIG, ...overrides }, connection, services);
  return { deliverer, services };
}

export interface TestPartitionWorker {
  worker: PartitionWorker;
  scripts: PartitionScripts;
  services: ProcessServices;
  /** Stops the worker at once (nothing in flight is waited for) and releases its lease. */
  stop(): Promise<void>;
}

/**
 * One partition delivered by a PartitionWorker of its own, under a lease taken here: a
 * deliverer's owner of that partition without the rendezvous around it, so that a test
 * decides when ownership moves. `prepare` sees the scripts before the worker starts.
 */
export async function startTestPartitionWorker(
  connection: BridgeConnectionConfig,
  client: RedisClient,
  keyspace: Keyspace,
  partition: number,
  instanceId: string,
  options: Partial<Pick<PartitionWorkerOptions, "delivery" | "commands" | "strandedSweepMs" | "strandedIdleMs">> & {
    config?: Partial<DelivererConfig>;
    prepare?: (scripts: PartitionScripts) => void;
  } = {},
): Promise<TestPartitionWorker> {
  const config = { ...FAST_CONFIG, ...options.config };
  const leaseValue = `${instanceId}:${newMessageId()}`;
  const commands = options.commands ?? client;
  const scripts = new PartitionScripts(commands, keyspace, partition, leaseValue, config.deadLetterCap);
  const taken = await lua.leaseAcquire(client, { lease: scripts.lease, owner: leaseValue, ttlMs: 60_000 });
  if (taken[0] !== "OK") throw new Error(`lease of partition ${partition}: ${JSON.stringify(taken)}`);
  options.prepare?.(scripts);
  const services = testServices(instanceId, (process.env.DELIVERER_TEST_LOG_LEVEL as LogLevel) ?? "silent");
  const delivery = options.delivery ?? new EndpointDelivery(config);
  const acks = new AckBatcher(commands, undefined, config.ackLingerMs);
  const worker = new PartitionWorker({
    scripts,
    commands,
    openBlocking: () => createRedisClient(connection.redis, "blocking"),
    delivery,
    acks,
    config,
    instanceId,
    logger: services.logger,
    metrics: createDelivererMetrics(services.metrics),
    onFenced: () => {},
    strandedSweepMs: options.strandedSweepMs,
    strandedIdleMs: options.strandedIdleMs,
  });
  await worker.start();
  return {
    worker,
    scripts,
    services,
    stop: async () => {
      await worker.stop(0);
      acks.close();
      if (!options.delivery) await delivery.close();
      await lua.leaseRelease(client, { lease: scripts.lease, owner: leaseValue });
    },
  };
}

/**
 * A commands client for a partition's new owner on which a previous owner, its lease expired
 * mid-tick, reads the partition's entries as `consumer` right after the new owner's takeover
 * claim (its first XAUTOCLAIM), before it fences itself: they stay pending under `consumer`.
 */
export async function commandsWithLateReadOfPreviousOwner(
  connection: BridgeConnectionConfig,
  client: RedisClient,
  keyspace: Keyspace,
  partition: number,
  consumer = "ghost",
): Promise<{ commands: RedisClient; lateRead: () => Promise<StreamEntry[]> }> {
  const stream = keyspace.key("outboundQueue", { partition });
  const { consumerGroup: group, entryField } = keyspace.spec("outboundQueue");
  const commands = createRedisClient(connection.redis, "commands");
  await waitUntilReady(commands);
  type Claim = (...args: unknown[]) => Promise<unknown>;
  const patched = commands as unknown as Record<"xautoclaim" | "xautoclaimBuffer", Claim>;
  let lateRead: Promise<StreamEntry[]> | undefined;
  for (const name of ["xautoclaim", "xautoclaimBuffer"] as const) {
    const claim = patched[name].bind(commands);
    patched[name] = async (...args: unknown[]) => {
      const reply = await claim(...args);
      lateRead ??= readGroup(client, { stream, group, consumer, entryField, count: 100, after: ">" });
      await lateRead;
      return reply;
    };
  }
  return { commands, lateRead: () => lateRead ?? Promise.resolve([]) };
}

/** A commands client and the deployment's keyspace, for writing jobs and inspecting Redis. */
export async function openRedis(
  connection: BridgeConnectionConfig,
): Promise<{ client: RedisClient; keyspace: Keyspace }> {
  const client = createRedisClient(connection.redis, "commands");
  await waitUntilReady(client);
  const keyspace = await ensureTopology(client, connection.prefix, connection.partitions);
  return { client, keyspace };
}

export { closeRedisClient };

export function makeJob(
  init: MessageInitShape<typeof OutboundJobSchema> & { recipientKey: string; endpoint: string },
): OutboundJob {
  return create(OutboundJobSchema, {
    mid: newMessageId(),
    kind: JobKind.DIDCOMM,
    contentType: "application/didcomm-envelope-enc",
    createdAtMs: BigInt(Date.now()),
    expiresAtMs: BigInt(Date.now() + 3_600_000),
    ...init,
  });
}

/** Enqueues a job the way the shim does (partition by recipient key, dedup by mid). */
export async function enqueueJob(client: RedisClient, keyspace: Keyspace, job: OutboundJob): Promise<number> {
  const partition = partitionOf(job.recipientKey, keyspace.partitionCount("outboundQueue"));
  const outcome = await enqueueEnvelope(client, {
    stream: keyspace.key("outboundQueue", { partition }),
    seenKey: keyspace.key("outboundSeen", { partition, mid: job.mid }),
    seenTtlMs: keyspace.spec("outboundSeen").defaultTtlMs,
    entryField: keyspace.spec("outboundQueue").entryField,
    payload: encodeEnvelope(OutboundJobSchema, job),
    highWaterMark: 0,
  });
  if (outcome.status !== "queued") throw new Error(`enqueue: ${outcome.status}`);
  return partition;
}

/** What a deliverer test runs against: a prefix of its own on the test Redis, a recording sink, a commands client. */
export interface OutboundTestBed {
  connection: BridgeConnectionConfig;
  sink: RecordingSink;
  client: RedisClient;
  keyspace: Keyspace;
}

/** Opens a test bed named `name`; `cleanup` receives what closes it (a test runs it in reverse). */
export async function openTestBed(
  redisUrl: string,
  name: string,
  cleanup: (() => Promise<unknown>)[],
  answer?: SinkBehaviour,
): Promise<OutboundTestBed> {
  const connection = connectionFor(redisUrl, uniquePrefix(name));
  const sink = await RecordingSink.start(answer);
  cleanup.push(() => sink.close());
  const { client, keyspace } = await openRedis(connection);
  cleanup.push(() => closeRedisClient(client));
  return { connection, sink, client, keyspace };
}

/** Enqueues jobs with bodies "1".."count", in order, for one recipient at the bed's sink; returns their partition. */
export async function enqueueNumberedJobs(bed: OutboundTestBed, recipientKey: string, count = 3): Promise<number> {
  let partition = 0;
  for (let seq = 1; seq <= count; seq++) {
    const job = makeJob({ recipientKey, endpoint: `${bed.sink.url}/r`, body: Buffer.from(String(seq)) });
    partition = await enqueueJob(bed.client, bed.keyspace, job);
  }
  return partition;
}

/** What is left in Redis of the outbound path: backlog, pending, parked recipients. */
/** The bodies of the outbound entries a consumer has read and not acknowledged, over every partition. */
export async function pendingBodiesOf(client: RedisClient, keyspace: Keyspace, consumer: string): Promise<string[]> {
  const spec = keyspace.spec("outboundQueue");
  const bodies: string[] = [];
  for (let partition = 0; partition < keyspace.partitionCount("outboundQueue"); partition++) {
    const stream = keyspace.key("outboundQueue", { partition });
    const pending = (await client.xpending(stream, spec.consumerGroup, "-", "+", 100_000, consumer)) as [
      string,
      ...unknown[],
    ][];
    for (const [id] of pending) {
      const [entry] = await client.xrangeBuffer(stream, id, id);
      const fields = entry?.[1] ?? [];
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i]?.toString() === spec.entryField) {
          bodies.push(Buffer.from(decodeEnvelope(OutboundJobSchema, fields[i + 1] as Buffer).body).toString());
        }
      }
    }
  }
  return bodies;
}

export async function outboundResidue(
  client: RedisClient,
  keyspace: Keyspace,
): Promise<{ backlog: number; pending: number; parked: number }> {
  let backlog = 0;
  let pending = 0;
  let parked = 0;
  const group = keyspace.spec("outboundQueue").consumerGroup;
  for (let partition = 0; partition < keyspace.partitionCount("outboundQueue"); partition++) {
    const stream = keyspace.key("outboundQueue", { partition });
    backlog += await client.xlen(stream);
    try {
      const summary = (await client.xpending(stream, group)) as [number, ...unknown[]];
      pending += Number(summary[0]);
    } catch {
      // no group yet
    }
    parked += await client.zcard(keyspace.key("outboundRetrySchedule", { partition }));
  }
  return { backlog, pending, parked };
}

export interface SinkRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  at: number;
}

/** Decides the answer to one request: a status, or "hang" (never answer). */
export type SinkBehaviour = (req: SinkRequest) => number | "hang";

/** An HTTP endpoint that records every POST (also the failed ones, with their status). */
export class RecordingSink {
  readonly received: (SinkRequest & { status: number | "hang" })[] = [];
  private readonly sockets = new Set<Socket>();
  behaviour: SinkBehaviour = () => 200;
  /** Answer this long after the request arrived (a slow endpoint). */
  delayMs = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(behaviour?: SinkBehaviour, port = 0, host = "127.0.0.1"): Promise<RecordingSink> {
    let sink: RecordingSink | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const request: SinkRequest = {
          path: req.url ?? "/",
          headers: req.headers,
          body: Buffer.concat(chunks),
          at: Date.now(),
        };
        const s = sink as RecordingSink;
        const status = s.behaviour(request);
        s.received.push({ ...request, status });
        if (status === "hang") return;
        if (s.delayMs > 0) setTimeout(() => res.writeHead(status).end(), s.delayMs);
        else res.writeHead(status).end();
      });
    });
    server.keepAliveTimeout = 60_000;
    server.on("connection", (socket: Socket) => {
      sink?.sockets.add(socket);
      socket.once("close", () => sink?.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
    const address = server.address() as AddressInfo;
    sink = new RecordingSink(server, `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`);
    if (behaviour) sink.behaviour = behaviour;
    return sink;
  }

  /** Successful deliveries (2xx) in arrival order. */
  get delivered(): SinkRequest[] {
    return this.received.filter((r) => typeof r.status === "number" && r.status < 300);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Checks per-recipient order of first occurrences; returns a list of violations. */
export function orderViolations(deliveries: { rk: string; seq: number }[]): string[] {
  const lastSeq = new Map<string, number>();
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const { rk, seq } of deliveries) {
    const key = `${rk}#${seq}`;
    if (seen.has(key)) continue; // a redelivered duplicate may come later
    seen.add(key);
    const last = lastSeq.get(rk) ?? -1;
    if (seq <= last) problems.push(`${rk}: ${seq} after ${last}`);
    lastSeq.set(rk, seq);
  }
  return problems;
}
