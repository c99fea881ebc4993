// A scalable mediator for tests: relays started in-process, ACA-Py mediators behind them.
import { createMetricsRegistry, Health, ShutdownCoordinator } from "@acapy-bridge/operability";
import {
  type BridgeConnectionConfig,
  DEFAULT_PARTITIONS,
  Keyspace,
  newMessageId,
  partitionCountsOf,
} from "@acapy-bridge/protocol";
import { DEFAULT_RELAY_CONFIG, type RelayConfig, type RunningRelay, startRelay } from "@acapy-bridge/relay";
import { AcaPyProcess, BridgeProcess, freePort } from "@acapy-bridge/test-harness";
import { pino } from "pino";

export interface TestRelay {
  relay: RunningRelay;
  url: string;
  wsUrl: string;
  metrics: ReturnType<typeof createMetricsRegistry>;
}

export const INBOUND_PARTITIONS = 4;

export function connectionOf(redisUrl: string, prefix: string): BridgeConnectionConfig {
  return {
    redis: { url: redisUrl, cluster: redisUrl.includes(",") },
    prefix,
    partitions: { ...DEFAULT_PARTITIONS, inboundPartitions: INBOUND_PARTITIONS },
  };
}

export async function startTestRelay(
  redisUrl: string,
  prefix: string,
  config: Partial<RelayConfig> = {},
): Promise<TestRelay> {
  const instanceId = `relay-${newMessageId().slice(-8)}`;
  const logger = pino({ level: process.env.RELAY_TEST_LOGS ? "debug" : "warn" });
  const metrics = createMetricsRegistry();
  const relay = await startRelay(
    { ...DEFAULT_RELAY_CONFIG, httpPort: 0, wsHeartbeatMs: 1_000, janitorIntervalMs: 1_000, ...config },
    connectionOf(redisUrl, prefix),
    { instanceId, logger, metrics, health: new Health(), shutdown: new ShutdownCoordinator(logger) },
  );
  const url = `http://127.0.0.1:${relay.httpAddress.port}`;
  return { relay, url, wsUrl: url.replace("http:", "ws:"), metrics };
}

/** The value of one series of a Prometheus registry (0 if absent). */
export async function metricValue(
  metrics: TestRelay["metrics"],
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** ACA-Py as a mediator behind the bridge: inbound from Redis, wallets' messages to routes and mailboxes. */
export function mediator(options: {
  label: string;
  redisUrl: string;
  prefix: string;
  endpoint: string;
  walletArgs?: string[];
  shimSettings?: string[];
}): Promise<AcaPyProcess> {
  return AcaPyProcess.start({
    label: options.label,
    walletArgs: options.walletArgs,
    args: [
      "--plugin",
      "acapy_bridge_shim",
      "-o",
      `acapy_bridge_shim.redis_url=${options.redisUrl}`,
      `acapy_bridge_shim.prefix=${options.prefix}`,
      `acapy_bridge_shim.partitions.inbound=${INBOUND_PARTITIONS}`,
      ...(options.shimSettings ?? []),
      "-it",
      "acapy_bridge_shim.inbound",
      "127.0.0.1",
      "0",
      "-ot",
      "acapy_bridge_shim.outbound",
      "-e",
      options.endpoint,
      "--open-mediation",
      "--auto-accept-invites",
      "--auto-accept-requests",
      ...(process.env.MEDIATOR_LOG_LEVEL ? ["--log-level", process.env.MEDIATOR_LOG_LEVEL] : []),
    ],
  });
}

/** A plain ACA-Py agent over HTTP (the wallets' correspondent). */
export async function plainAgent(label: string): Promise<AcaPyProcess> {
  const port = await freePort();
  return AcaPyProcess.start({
    label,
    args: [
      "-it",
      "http",
      "127.0.0.1",
      String(port),
      "-ot",
      "http",
      "-e",
      `http://127.0.0.1:${port}`,
      "--auto-accept-invites",
      "--auto-accept-requests",
    ],
  });
}

/**
 * A relay as its own OS process (the built CLI), so that a test can kill -9 it; same deployment
 * settings as startTestRelay (inbound partitions, fast heartbeats and janitor rounds).
 */
export function startRelayProcess(redisUrl: string, prefix: string, instanceId: string): Promise<BridgeProcess> {
  return BridgeProcess.start("relay", [
    "--redis-url",
    redisUrl,
    ...(redisUrl.includes(",") ? ["--cluster"] : []),
    "--prefix",
    prefix,
    "--inbound-partitions",
    String(INBOUND_PARTITIONS),
    "--instance-id",
    instanceId,
    "--http-port",
    "0",
    "--ops-port",
    "0",
    "--grpc-port",
    "0",
    "--ws-heartbeat-ms",
    "1000",
    "--janitor-interval-ms",
    "1000",
    "--log-level",
    "info",
  ]);
}

/** The deployment's keys, rendered from the contract (never written by hand). */
export function keyspaceOf(redisUrl: string, prefix: string): Keyspace {
  return new Keyspace(prefix, partitionCountsOf(connectionOf(redisUrl, prefix).partitions));
}
