import { check, type OptionSpec, type OptionValue, type ParsedOptions } from "@acapy-bridge/operability";

/** The shared validators are typed per kind; an OptionSpec list holds them all. */
function rule<T extends OptionValue>(validate: (value: T) => string | undefined): OptionSpec["validate"] {
  return validate as OptionSpec["validate"];
}

/** Everything the relay needs besides the Redis connection (which the CLI's common options give). */
export interface RelayConfig {
  httpHost: string;
  /** 0 = any free port (tests). */
  httpPort: number;
  /**
   * WebSocket upgrades are accepted on the HTTP listener; with `wsPort` set, also
   * on a second listener of their own (ACA-Py deployments often publish ws on its own port).
   */
  wsPort: number | undefined;
  /** Same limit for an HTTP body and a WebSocket frame, like ACA-Py's --max-message-size. */
  maxMessageBytes: number;
  /** How long an HTTP request waits for ACA-Py's answer before the relay answers 202 itself. */
  replyTimeoutMs: number;
  /** An inbound partition holding this many messages refuses more (503 / close 1013); 0 = unbounded. */
  inboundHighWaterMark: number;
  /** A resent identical body within this window is answered without a second entry; 0 = off. */
  dedupWindowMs: number;
  /** After this, an inbound message not yet taken by ACA-Py is dead-lettered as expired; 0 = never. */
  inboundTtlMs: number;
  wsHeartbeatMs: number;
  /** A socket with no DIDComm frame either way for this long is closed; 0 = never. */
  wsIdleTimeoutMs: number;
  /**
   * A frame the kernel has not taken within this is a slow consumer: its socket is terminated. The
   * inbox is handled one entry at a time, so one wallet that stopped reading would hold up all others.
   */
  wsSendTimeoutMs: number;
  /** A socket with more than this waiting to be written is a slow consumer and terminated before another send. */
  wsMaxBufferedBytes: number;
  /** Frames of one socket being written to Redis at once; above it, reading from that socket pauses. */
  wsMaxFramesInFlight: number;
  /** Browser origins allowed to open a WebSocket; empty = no check. Clients without Origin are always allowed. */
  allowedOrigins: string[];
  /** Seconds announced in Retry-After with a 503. */
  retryAfterSeconds: number;
  /** How often this relay tries the janitor lease and recovers dead relays' inboxes. */
  janitorIntervalMs: number;
}

export const DEFAULT_RELAY_CONFIG: RelayConfig = {
  httpHost: "127.0.0.1",
  httpPort: 8020,
  wsPort: undefined,
  maxMessageBytes: 2 * 1024 * 1024,
  replyTimeoutMs: 15_000,
  inboundHighWaterMark: 100_000,
  dedupWindowMs: 600_000,
  inboundTtlMs: 24 * 3600 * 1000,
  wsHeartbeatMs: 3_000,
  wsIdleTimeoutMs: 300_000,
  wsSendTimeoutMs: 5_000,
  wsMaxBufferedBytes: 8 * 1024 * 1024,
  wsMaxFramesInFlight: 16,
  allowedOrigins: [],
  retryAfterSeconds: 2,
  janitorIntervalMs: 5_000,
};

const d = DEFAULT_RELAY_CONFIG;

/** The relay's own options (the CLI adds the common ones: Redis, prefix, partitions, logging, ops port). */
export const relayOptionSpecs: OptionSpec[] = [
  {
    name: "http-host",
    env: "ACAPY_BRIDGE_HTTP_HOST",
    kind: "string",
    default: d.httpHost,
    description: "Address the DIDComm HTTP/WebSocket listener binds to.",
    validate: rule(check.nonEmpty),
  },
  {
    name: "http-port",
    env: "ACAPY_BRIDGE_HTTP_PORT",
    kind: "integer",
    default: d.httpPort,
    description: "Port of the DIDComm listener: POST / and GET / (and WebSocket upgrades).",
    validate: rule(check.port),
  },
  {
    name: "ws-port",
    env: "ACAPY_BRIDGE_WS_PORT",
    kind: "integer",
    description: "Also accept WebSockets on this separate port (unset: only on the HTTP port).",
    validate: rule(check.port),
  },
  {
    name: "max-message-bytes",
    env: "ACAPY_BRIDGE_MAX_MESSAGE_BYTES",
    kind: "integer",
    default: d.maxMessageBytes,
    description: "Largest HTTP body or WebSocket frame accepted (413 / close 1009 above it).",
    validate: rule(check.positive),
  },
  {
    name: "reply-timeout-ms",
    env: "ACAPY_BRIDGE_REPLY_TIMEOUT_MS",
    kind: "integer",
    default: d.replyTimeoutMs,
    description: "How long a POST waits for ACA-Py's direct response; then 202 and a late reply goes back to ACA-Py.",
    validate: rule(check.positive),
  },
  {
    name: "inbound-high-water-mark",
    env: "ACAPY_BRIDGE_INBOUND_HIGH_WATER_MARK",
    kind: "integer",
    default: d.inboundHighWaterMark,
    description: "Backlog of one inbound partition at which new messages get 503 (0 = unbounded).",
    validate: rule(check.nonNegative),
  },
  {
    name: "dedup-window-ms",
    env: "ACAPY_BRIDGE_DEDUP_WINDOW_MS",
    kind: "integer",
    default: d.dedupWindowMs,
    description: "A byte-identical resend within this window is acknowledged without a second entry (0 = off).",
    validate: rule(check.nonNegative),
  },
  {
    name: "inbound-ttl-ms",
    env: "ACAPY_BRIDGE_INBOUND_TTL_MS",
    kind: "integer",
    default: d.inboundTtlMs,
    description: "An inbound message not taken by ACA-Py within this is dead-lettered as expired (0 = never).",
    validate: rule(check.nonNegative),
  },
  {
    name: "ws-heartbeat-ms",
    env: "ACAPY_BRIDGE_WS_HEARTBEAT_MS",
    kind: "integer",
    default: d.wsHeartbeatMs,
    description:
      "Each socket is pinged once per interval (the pings are spread over it, not sent in one burst); a socket that missed its previous pong is terminated.",
    validate: rule(check.positive),
  },
  {
    name: "ws-idle-timeout-ms",
    env: "ACAPY_BRIDGE_WS_IDLE_TIMEOUT_MS",
    kind: "integer",
    default: d.wsIdleTimeoutMs,
    description: "Close a socket with no DIDComm frame either way for this long (0 = never).",
    validate: rule(check.nonNegative),
  },
  {
    name: "ws-send-timeout-ms",
    env: "ACAPY_BRIDGE_WS_SEND_TIMEOUT_MS",
    kind: "integer",
    default: d.wsSendTimeoutMs,
    description:
      "A frame to a socket not taken by the kernel within this marks a slow consumer: the socket is terminated and its unconfirmed messages go back to the mailbox (a reply back to ACA-Py).",
    validate: rule(check.positive),
  },
  {
    name: "ws-max-buffered-bytes",
    env: "ACAPY_BRIDGE_WS_MAX_BUFFERED_BYTES",
    kind: "integer",
    default: d.wsMaxBufferedBytes,
    description:
      "A socket with more than this many bytes waiting to be written is terminated as a slow consumer before the next frame.",
    validate: rule(check.positive),
  },
  {
    name: "ws-max-frames-in-flight",
    env: "ACAPY_BRIDGE_WS_MAX_FRAMES_IN_FLIGHT",
    kind: "integer",
    default: d.wsMaxFramesInFlight,
    description:
      "Frames of one socket written to Redis at once; above it the relay stops reading that socket until one is done.",
    validate: rule(check.positive),
  },
  {
    name: "allowed-origins",
    env: "ACAPY_BRIDGE_ALLOWED_ORIGINS",
    kind: "list",
    default: d.allowedOrigins,
    description: "Comma-separated Origins allowed to open a WebSocket (empty: any; no Origin is always allowed).",
  },
  {
    name: "retry-after-seconds",
    env: "ACAPY_BRIDGE_RETRY_AFTER_SECONDS",
    kind: "integer",
    default: d.retryAfterSeconds,
    description: "Retry-After announced with a 503 (Redis unreachable or partition full).",
    validate: rule(check.positive),
  },
  {
    name: "janitor-interval-ms",
    env: "ACAPY_BRIDGE_JANITOR_INTERVAL_MS",
    kind: "integer",
    default: d.janitorIntervalMs,
    description: "How often a relay tries to become the janitor and recover dead relays' inboxes.",
    validate: rule(check.positive),
  },
];

function num(parsed: ParsedOptions, name: string, fallback: number): number {
  const v = parsed[name];
  return typeof v === "number" ? v : fallback;
}

export function relayConfigFromOptions(parsed: ParsedOptions): RelayConfig {
  const host = parsed["http-host"];
  const origins = parsed["allowed-origins"];
  const wsPort = parsed["ws-port"];
  return {
    httpHost: typeof host === "string" ? host : d.httpHost,
    httpPort: num(parsed, "http-port", d.httpPort),
    wsPort: typeof wsPort === "number" ? wsPort : undefined,
    maxMessageBytes: num(parsed, "max-message-bytes", d.maxMessageBytes),
    replyTimeoutMs: num(parsed, "reply-timeout-ms", d.replyTimeoutMs),
    inboundHighWaterMark: num(parsed, "inbound-high-water-mark", d.inboundHighWaterMark),
    dedupWindowMs: num(parsed, "dedup-window-ms", d.dedupWindowMs),
    inboundTtlMs: num(parsed, "inbound-ttl-ms", d.inboundTtlMs),
    wsHeartbeatMs: num(parsed, "ws-heartbeat-ms", d.wsHeartbeatMs),
    wsIdleTimeoutMs: num(parsed, "ws-idle-timeout-ms", d.wsIdleTimeoutMs),
    wsSendTimeoutMs: num(parsed, "ws-send-timeout-ms", d.wsSendTimeoutMs),
    wsMaxBufferedBytes: num(parsed, "ws-max-buffered-bytes", d.wsMaxBufferedBytes),
    wsMaxFramesInFlight: num(parsed, "ws-max-frames-in-flight", d.wsMaxFramesInFlight),
    allowedOrigins: Array.isArray(origins) ? origins : d.allowedOrigins,
    retryAfterSeconds: num(parsed, "retry-after-seconds", d.retryAfterSeconds),
    janitorIntervalMs: num(parsed, "janitor-interval-ms", d.janitorIntervalMs),
  };
}
