import type { Registry } from "prom-client";
import type { Health } from "./health.js";
import type { Logger } from "./logger.js";
import type { ShutdownCoordinator } from "./shutdown.js";

/**
 * What the CLI gives each part (relay, deliverer) it starts: one identity,
 * one log stream, one metrics registry, one health state, one shutdown order.
 */
export interface ProcessServices {
  instanceId: string;
  logger: Logger;
  metrics: Registry;
  health: Health;
  shutdown: ShutdownCoordinator;
}

/** A started part; `stop` stops taking work, finishes in-flight work, then releases its resources. */
export interface RunningPart {
  stop(): Promise<void>;
}
