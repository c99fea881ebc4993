// The relay: DIDComm messages from agents (HTTP POST, WebSocket) into the
// inbound partitions in Redis, and ACA-Py's direct responses back out.

export { type EnvelopeInspection, inspectEnvelope, isBase58Verkey } from "./envelope-recipient.js";
export { InboundWriter } from "./inbound-writer.js";
export { PendingReplies } from "./pending-replies.js";
export { createRelayMetrics, type RelayMetrics } from "./relay-metrics.js";
export { DEFAULT_RELAY_CONFIG, type RelayConfig, relayConfigFromOptions, relayOptionSpecs } from "./relay-options.js";
export { type RunningRelay, startRelay } from "./start-relay.js";
