import { hostname } from "node:os";
import type { ProcessServices, RunningPart } from "@acapy-bridge/operability";
import {
  type BridgeConnectionConfig,
  closeRedisClient,
  createRedisClient,
  ensureTopology,
  instanceInfo,
  type Keyspace,
  Membership,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { AckBatcher } from "./ack-batcher.js";
import { createDelivererMetrics } from "./deliverer-metrics.js";
import type { DelivererConfig } from "./deliverer-options.js";
import { EndpointDelivery } from "./endpoint-delivery.js";
import { PartitionWorker } from "./outbound-consumer.js";
import { PartitionOwnership } from "./partition-ownership.js";
import { PartitionScripts } from "./partition-scripts.js";
import { PushDelivery } from "./push-delivery.js";

export const DELIVERER_ROLE = "deliverer";

export interface RunningDeliverer extends RunningPart {
  instanceId: string;
  keyspace: Keyspace;
  /** Outbound partitions this deliverer holds right now. */
  ownedPartitions(): number[];
  listeners: Record<string, string>;
}

/**
 * Starts one deliverer: joins the deliverers' membership, takes its share of
 * the outbound partitions (fenced leases) and delivers them. `stop()` stops
 * reading, lets deliveries in flight finish (bounded), releases the leases so
 * the other deliverers take over at once, and leaves the membership.
 */
/** Entries of the stream not yet read by `group` plus read but unacknowledged (XINFO GROUPS). */
async function partitionLag(commands: RedisClient, stream: string, group: string): Promise<number> {
  const groups = (await commands.call("XINFO", "GROUPS", stream)) as unknown[][];
  for (const entry of groups) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    if (fields.get("name") === group) return Number(fields.get("lag") ?? 0) + Number(fields.get("pending") ?? 0);
  }
  return 0;
}

export async function startDeliverer(
  config: DelivererConfig,
  connection: BridgeConnectionConfig,
  services: ProcessServices,
): Promise<RunningDeliverer> {
  const instanceId = services.instanceId;
  const logger = services.logger.child({ part: "deliverer" });
  const workers = new Map<number, PartitionWorker>();
  const metrics = createDelivererMetrics(services.metrics, {
    lag: () =>
      Promise.all(
        [...workers.keys()].map(async (partition): Promise<[number, number]> => {
          const stream = keyspace.key("outboundQueue", { partition });
          return [partition, await partitionLag(commands, stream, keyspace.spec("outboundQueue").consumerGroup)];
        }),
      ),
    parked: () => [...workers].map(([partition, worker]): [number, number] => [partition, worker.parkedCount]),
  });
  const commands = createRedisClient({ ...connection.redis, connectionName: `${instanceId}-deliverer` }, "commands");
  let redisDown = false;
  commands.on("error", (error: Error) => {
    if (!redisDown) logger.warn({ event: "deliverer.redis_error", err: error.message }, "Redis connection error");
    redisDown = true;
  });
  commands.on("ready", () => {
    if (redisDown) logger.info({ event: "deliverer.redis_ready" }, "Redis connection restored");
    redisDown = false;
  });

  await waitUntilReady(commands, 30_000);
  const keyspace = await ensureTopology(commands, connection.prefix, connection.partitions);
  const membership = new Membership({
    client: commands,
    keyspace,
    info: instanceInfo({
      instanceId,
      role: DELIVERER_ROLE,
      hostname: hostname(),
      pid: process.pid,
      startedAtMs: BigInt(Date.now()),
      version: "0.1.0",
    }),
    heartbeatMs: config.heartbeatMs,
    deadAfterMs: config.leaseTtlMs,
    onError: (error) => logger.warn({ event: "deliverer.heartbeat_failed", err: error.message }),
  });
  await membership.start();
  const delivery = new EndpointDelivery(
    config,
    new PushDelivery(config.push, config, { client: commands, keyspace, logger, metrics }),
  );
  const acks = new AckBatcher(
    commands,
    (error, partition, delayMs) =>
      logger.warn(
        { event: "deliverer.ack_retry", partition: partition.partition, delayMs, err: (error as Error)?.message },
        "acknowledgement failed; sending it again after a pause, ahead of later ones",
      ),
    config.ackLingerMs,
  );

  const ownership = new PartitionOwnership({
    client: commands,
    keyspace,
    membership,
    role: DELIVERER_ROLE,
    instanceId,
    leaseTtlMs: config.leaseTtlMs,
    handOffGraceMs: Math.min(config.totalTimeoutMs, 5_000),
    logger,
    onEvent: (event) => {
      metrics.leaseEvents.inc({ event });
      metrics.ownedPartitions.set(workers.size);
    },
    start: async (partition, leaseValue, onFenced) => {
      const worker = new PartitionWorker({
        scripts: new PartitionScripts(commands, keyspace, partition, leaseValue, config.deadLetterCap),
        commands,
        openBlocking: () =>
          createRedisClient(
            { ...connection.redis, connectionName: `${instanceId}-deliverer-p${partition}` },
            "blocking",
          ),
        delivery,
        acks,
        config,
        instanceId,
        logger,
        metrics,
        onFenced,
      });
      workers.set(partition, worker);
      metrics.ownedPartitions.set(workers.size);
      try {
        await worker.start();
      } catch (error) {
        await worker.stop(0);
        workers.delete(partition);
        throw error;
      }
      return {
        stop: async (graceMs) => {
          await worker.stop(graceMs);
          if (workers.get(partition) === worker) workers.delete(partition);
          metrics.ownedPartitions.set(workers.size);
        },
      };
    },
  });
  ownership.start();

  services.health.addReadinessCheck({
    name: "deliverer",
    check: () => commands.status === "ready" && Date.now() - membership.lastHeartbeatAt < config.leaseTtlMs,
  });
  logger.info(
    { event: "deliverer.started", leaseTtlMs: config.leaseTtlMs, concurrency: config.concurrency },
    "deliverer started",
  );

  let stopping: Promise<void> | undefined;
  return {
    instanceId,
    keyspace,
    listeners: {},
    ownedPartitions: () => ownership.owned,
    stop: () => {
      stopping ??= (async () => {
        await ownership.stop(Math.min(config.totalTimeoutMs, 10_000));
        acks.close();
        await membership.stop().catch(() => undefined);
        await delivery.close().catch(() => undefined);
        await closeRedisClient(commands);
        logger.info({ event: "deliverer.stopped" }, "deliverer stopped");
      })();
      return stopping;
    },
  };
}
