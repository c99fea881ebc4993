import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { ControlServer } from "@acapy-bridge/control";
import {
  createLogger,
  createMetricsRegistry,
  formatHelp,
  Health,
  type Logger,
  OpsServer,
  type OptionSpec,
  type RunningPart,
  redactOptions,
  ShutdownCoordinator,
} from "@acapy-bridge/operability";
import {
  closeRedisClient,
  createRedisClient,
  ensureTopology,
  type Keyspace,
  type RedisClient,
  redactUrl,
} from "@acapy-bridge/protocol";
import { type CommonConfig, commonConfigFromOptions, commonOptionSpecs } from "./common-options.js";
import { loadOptions } from "./load-options.js";
import { partsByMode, type ServerMode } from "./parts.js";
import { RedisHealth } from "./redis-health.js";

export function serverOptionSpecs(mode: ServerMode): OptionSpec[] {
  const specs = [...commonOptionSpecs];
  for (const part of partsByMode[mode]) {
    for (const spec of part.optionSpecs) if (!specs.some((s) => s.name === spec.name)) specs.push(spec);
  }
  return specs;
}

async function connectWithPatience(client: RedisClient, logger: Logger, url: string): Promise<void> {
  // Starting before Redis is normal in an orchestrated deployment: wait and say so (why it fails is
  // logged by RedisHealth, once per kind of failure).
  const started = Date.now();
  const isReady = () => (client.status as string) === "ready";
  while (!isReady()) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5000);
      client.once("ready", () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (!isReady()) {
      logger.warn(
        { event: "redis.waiting", redis: redactUrl(url), waitedMs: Date.now() - started },
        "waiting for Redis",
      );
    }
  }
}

/** Runs `acapy-bridge relay|deliverer|all` until a signal stops it. */
export async function runServer(mode: ServerMode, argv: string[]): Promise<number> {
  const specs = serverOptionSpecs(mode);
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(formatHelp(`acapy-bridge ${mode} [options]`, specs));
    return 0;
  }
  const options = loadOptions(specs, argv, process.env);
  const common: CommonConfig = commonConfigFromOptions(options, (path) => readFileSync(path, "utf8"));
  // Every part's options are checked before anything connects: a bad value ends the process
  // at once with its error, instead of after Redis came up (or never, while Redis is away).
  const starters = partsByMode[mode].map((part) => part.configure(options));
  const instanceId = common.instanceId ?? `${mode}-${hostname()}-${process.pid}-${randomBytes(2).toString("hex")}`;
  const logger = createLogger({ component: mode, instance: instanceId, level: common.logLevel });
  logger.info({ event: "process.starting", options: redactOptions(specs, options) }, `acapy-bridge ${mode} starting`);

  const metrics = createMetricsRegistry({ mode });
  const health = new Health();
  const shutdown = new ShutdownCoordinator(logger, common.shutdownTimeoutMs);
  shutdown.installSignalHandlers();
  const services = { instanceId, logger, metrics, health, shutdown };

  const control = createRedisClient(
    { ...common.connection.redis, connectionName: `${instanceId}-control` },
    "commands",
  );
  const redisHealth = new RedisHealth(control, logger);
  redisHealth.start();
  health.addReadinessCheck(redisHealth.readinessCheck);
  let partsStarted = false;
  health.addReadinessCheck({
    name: "started",
    check: () => partsStarted,
    reason: () => `the ${mode} parts start once Redis is reachable`,
  });
  // The ops endpoints serve from the first moment: a liveness probe must not restart a process that
  // waits for Redis, and readiness says why it is not ready yet.
  const ops = new OpsServer(health, [metrics]);
  const opsAddress = await ops.listen(common.opsHost, common.opsPort);
  logger.info(
    { event: "ops.listening", listeners: { ops: `${opsAddress.address}:${opsAddress.port}` } },
    "ops endpoints listening",
  );

  await connectWithPatience(control, logger, common.connection.redis.url);
  const keyspace: Keyspace = await ensureTopology(control, common.connection.prefix, common.connection.partitions);

  const running: RunningPart[] = [];
  for (const start of starters) {
    running.push(await start(common.connection, services));
  }
  partsStarted = true;
  const grpcServer = new ControlServer({
    client: control,
    keyspace,
    isServing: () => health.readiness().ready,
    token: common.controlToken,
    tls: common.controlTls,
    logger,
  });
  const grpcPort = await grpcServer.listen(common.grpcHost, common.grpcPort);

  shutdown.add("readiness", async () => health.markShuttingDown());
  shutdown.add("parts", async () => {
    await Promise.all(running.map((p) => p.stop()));
  });
  shutdown.add("control api", () => grpcServer.close());
  shutdown.add("ops endpoints", () => ops.close());
  shutdown.add("redis", async () => {
    redisHealth.stop();
    await closeRedisClient(control);
  });

  const listeners = Object.assign(
    { ops: `${opsAddress.address}:${opsAddress.port}`, grpc: `${common.grpcHost}:${grpcPort}` },
    ...running.map((p) => (p as RunningPart & { listeners?: Record<string, string> }).listeners ?? {}),
  );
  logger.info(
    { event: "process.ready", listeners, redis: redactUrl(common.connection.redis.url) },
    `acapy-bridge ${mode} ready`,
  );
  await new Promise<never>(() => {});
  return 0;
}
