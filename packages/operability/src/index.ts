export { Health, type Readiness, type ReadinessCheck } from "./health.js";
export { createLogger, type Logger, type LogLevel, silentLogger } from "./logger.js";
export {
  BRIDGE_VERSION,
  Counter,
  createMetricsRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  Registry,
} from "./metrics.js";
export { OpsServer } from "./ops-server.js";
export {
  check,
  formatHelp,
  type OptionSpec,
  OptionsError,
  type OptionValue,
  type ParsedOptions,
  parseOptions,
  redactOptions,
} from "./options.js";
export type { ProcessServices, RunningPart } from "./process-services.js";
export { SAMPLED_LOG_INTERVAL_MS, SampledLog } from "./sampled-log.js";
export { isSecretName, MASK, redactSecrets, redactSecretsInText } from "./secret-redaction.js";
export { ShutdownCoordinator } from "./shutdown.js";
