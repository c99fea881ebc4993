import type { Logger, SampledLog } from "@acapy-bridge/operability";
import type { InboundWriter } from "./inbound-writer.js";
import type { PendingReplies } from "./pending-replies.js";
import type { RelayLimits } from "./relay-limits.js";
import type { RelayMetrics } from "./relay-metrics.js";
import type { RelayConfig } from "./relay-options.js";
import type { ShimPresence } from "./shim-presence.js";
import type { SocketRegistry } from "./socket-registry.js";

/** What the ingress paths and the inbox reader of one relay share. */
export interface RelayContext {
  relayId: string;
  config: RelayConfig;
  logger: Logger;
  /** Rejected requests and frames are logged through this (a few lines per interval), counted in `metrics`. */
  rejections: SampledLog;
  metrics: RelayMetrics;
  writer: InboundWriter;
  pending: PendingReplies;
  sockets: SocketRegistry;
  limits: RelayLimits;
  /** Whether any ACA-Py is alive to answer a request directly. */
  shims: ShimPresence;
  /** Set once shutdown begins: new messages get 503 / close 1001. */
  draining: boolean;
}
