// The deliverer: outbound partitions in Redis -> agents' endpoints and controllers' webhook URLs.

export { buildDeadLetter, readOutboundDeadLetters } from "./dead-letters.js";
export { createDelivererMetrics, type DelivererMetrics } from "./deliverer-metrics.js";
export {
  DEFAULT_DELIVERER_CONFIG,
  type DelivererConfig,
  delivererConfigFromOptions,
  delivererOptionSpecs,
} from "./deliverer-options.js";
export {
  type AttemptOutcome,
  checkEndpoint,
  classifyError,
  classifyStatus,
  parseRetryAfter,
  retryDelayMs,
} from "./failure-policy.js";
export { rendezvousOwner } from "./partition-ownership.js";
export {
  APNS_PRODUCTION_URL,
  APNS_SANDBOX_URL,
  DEFAULT_PUSH_CONFIG,
  type PushConfig,
  pushConfigFromOptions,
  pushOptionSpecs,
  type ServiceAccount,
} from "./push-options.js";
export { DELIVERER_ROLE, type RunningDeliverer, startDeliverer } from "./start-deliverer.js";
