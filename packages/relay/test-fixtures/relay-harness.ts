// Starts a relay in-process for tests, with its log lines captured.
import { Writable } from "node:stream";
import { createMetricsRegistry, Health, ShutdownCoordinator } from "@acapy-bridge/operability";
import {
  type BridgeConnectionConfig,
  DEFAULT_PARTITIONS,
  newMessageId,
  type PartitionPlan,
} from "@acapy-bridge/protocol";
import { pino } from "pino";
import { DEFAULT_RELAY_CONFIG, type RelayConfig } from "../src/relay-options.js";
import { type RunningRelay, startRelay } from "../src/start-relay.js";

export type LogLine = Record<string, unknown> & { event?: string; level?: string; msg?: string };

export interface TestRelay {
  relay: RunningRelay;
  url: string;
  wsUrl: string;
  logs: LogLine[];
  health: Health;
  metrics: ReturnType<typeof createMetricsRegistry>;
  connection: BridgeConnectionConfig;
}

export async function startTestRelay(options: {
  redisUrl: string;
  prefix: string;
  partitions?: Partial<PartitionPlan>;
  config?: Partial<RelayConfig>;
}): Promise<TestRelay> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const instanceId = `relay-test-${newMessageId().slice(-8)}`;
  const logger = pino({ level: "debug", formatters: { level: (label) => ({ level: label }) } }, sink);
  const metrics = createMetricsRegistry();
  const health = new Health();
  const connection: BridgeConnectionConfig = {
    redis: { url: options.redisUrl, cluster: options.redisUrl.includes(",") },
    prefix: options.prefix,
    partitions: { ...DEFAULT_PARTITIONS, inboundPartitions: 4, ...(options.partitions ?? {}) },
  };
  const relay = await startRelay({ ...DEFAULT_RELAY_CONFIG, httpPort: 0, ...(options.config ?? {}) }, connection, {
    instanceId,
    logger,
    metrics,
    health,
    shutdown: new ShutdownCoordinator(logger),
  });
  const url = `http://127.0.0.1:${relay.httpAddress.port}`;
  return { relay, url, wsUrl: url.replace("http:", "ws:"), logs, health, metrics, connection };
}
