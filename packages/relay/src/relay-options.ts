import { isIP } from "node:net";
import { check, type OptionSpec, OptionsError, type OptionValue, type ParsedOptions } from "@acapy-bridge/operability";

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
  /** An inbound partition whose stream takes this much Redis memory refuses more; 0 = unbounded. */
  inboundHighWaterBytes: number;
  /** Messages one recipient key may have accepted per window once its partition is at half of either mark; 0 = no cap. */
  inboundRecipientCap: number;
  /** The window of `inboundRecipientCap` (fixed windows, the count key's TTL). */
  inboundRecipientWindowMs: number;
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
  /** Open DIDComm connections (HTTP and WebSocket) of this process; above it new ones get 503. 0 = only the descriptor limit. */
  maxConnections: number;
  /** Open DIDComm connections from one client address (an IPv6 /64); 0 = no per-client limit. */
  maxConnectionsPerClient: number;
  /** Requests (POSTs, GETs, WebSocket upgrades) per second one client address may make; 0 = no limit. */
  rateLimitPerSecond: number;
  /** Requests one client address may make at once after a quiet spell (the token bucket's size). */
  rateLimitBurst: number;
  /** Client addresses whose rate is tracked at once (least recently seen forgotten first). */
  rateLimitTrackedClients: number;
  /** Addresses the per-client limits (connections, rate) do not apply to: a proxy on the same host. */
  limitExemptAddresses: string[];
  /** A request whose headers are not all in within this gets 408 and its connection closed. */
  httpHeadersTimeoutMs: number;
  /** A request (headers and body) not all in within this gets 408 and its connection closed. */
  httpRequestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  httpKeepAliveTimeoutMs: number;
  /** Bytes of request bodies held at once (being read or written to Redis); above it new bodies get 503 unread. */
  maxBodyBytesInFlight: number;
  /** The share of `maxBodyBytesInFlight` one client address may hold. */
  maxBodyBytesInFlightPerClient: number;
  /** A WebSocket that has not sent a frame within this of opening is closed (1008); 0 = never. */
  wsFirstFrameTimeoutMs: number;
  /** Address of the admin listener (ACA-Py's admin API through Redis); keep it off the public network. */
  adminHost: string;
  /** Port of the admin listener; unset = no admin listener. 0 = any free port (tests). */
  adminPort: number | undefined;
  /** Largest admin request body forwarded (413 above it). */
  adminMaxBodyBytes: number;
  /** How long an admin call waits for ACA-Py's answer: 503 if no instance took it by then, 504 (outcome unknown) if one did. */
  adminTimeoutMs: number;
}

export const DEFAULT_RELAY_CONFIG: RelayConfig = {
  httpHost: "127.0.0.1",
  httpPort: 8020,
  wsPort: undefined,
  maxMessageBytes: 2 * 1024 * 1024,
  replyTimeoutMs: 15_000,
  inboundHighWaterMark: 100_000,
  inboundHighWaterBytes: 64 * 1024 * 1024,
  inboundRecipientCap: 1_000,
  inboundRecipientWindowMs: 60_000,
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
  maxConnections: 10_000,
  maxConnectionsPerClient: 64,
  rateLimitPerSecond: 50,
  rateLimitBurst: 100,
  rateLimitTrackedClients: 65_536,
  limitExemptAddresses: ["127.0.0.1", "::1"],
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 30_000,
  httpKeepAliveTimeoutMs: 65_000,
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  maxBodyBytesInFlightPerClient: 8 * 1024 * 1024,
  wsFirstFrameTimeoutMs: 30_000,
  adminHost: "127.0.0.1",
  adminPort: undefined,
  adminMaxBodyBytes: 8 * 1024 * 1024,
  adminTimeoutMs: 60_000,
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
    name: "inbound-high-water-bytes",
    env: "ACAPY_BRIDGE_INBOUND_HIGH_WATER_BYTES",
    kind: "integer",
    default: d.inboundHighWaterBytes,
    description:
      "Redis memory of one inbound partition's stream (MEMORY USAGE, sampled) at which new messages get 503 (0 = unbounded); partitions x this must fit Redis' maxmemory.",
    validate: rule(check.nonNegative),
  },
  {
    name: "inbound-recipient-cap",
    env: "ACAPY_BRIDGE_INBOUND_RECIPIENT_CAP",
    kind: "integer",
    default: d.inboundRecipientCap,
    description:
      "Once an inbound partition is at half of either high-water mark, a recipient key that had this many messages accepted in the current window gets 503, so one key cannot fill a partition for the others (0 = no cap).",
    validate: rule(check.nonNegative),
  },
  {
    name: "inbound-recipient-window-ms",
    env: "ACAPY_BRIDGE_INBOUND_RECIPIENT_WINDOW_MS",
    kind: "integer",
    default: d.inboundRecipientWindowMs,
    description: "The window of inbound-recipient-cap (fixed windows).",
    validate: rule(check.positive),
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
  {
    name: "max-connections",
    env: "ACAPY_BRIDGE_MAX_CONNECTIONS",
    kind: "integer",
    default: d.maxConnections,
    description:
      "Open DIDComm connections (HTTP and WebSocket) of this process; a new one above it gets 503 and is closed. Lowered to the open-files limit minus 256 when that is smaller (0 = that limit only).",
    validate: rule(check.nonNegative),
  },
  {
    name: "max-connections-per-ip",
    env: "ACAPY_BRIDGE_MAX_CONNECTIONS_PER_IP",
    kind: "integer",
    default: d.maxConnectionsPerClient,
    description:
      "Open DIDComm connections from one client address (IPv6: one /64); a new one above it gets 503 and is closed (0 = no per-address limit).",
    validate: rule(check.nonNegative),
  },
  {
    name: "rate-limit-per-ip",
    env: "ACAPY_BRIDGE_RATE_LIMIT_PER_IP",
    kind: "integer",
    default: d.rateLimitPerSecond,
    description:
      "Requests (POST, GET, WebSocket upgrade) per second from one client address; above it 429 with Retry-After (0 = no limit).",
    validate: rule(check.nonNegative),
  },
  {
    name: "rate-limit-burst",
    env: "ACAPY_BRIDGE_RATE_LIMIT_BURST",
    kind: "integer",
    default: d.rateLimitBurst,
    description: "Requests one client address may make at once after a quiet spell (the token bucket size).",
    validate: rule(check.positive),
  },
  {
    name: "rate-limit-tracked-ips",
    env: "ACAPY_BRIDGE_RATE_LIMIT_TRACKED_IPS",
    kind: "integer",
    default: d.rateLimitTrackedClients,
    description:
      "Client addresses whose request rate is remembered at once (about 100 bytes each); the least recently seen is forgotten first.",
    validate: rule(check.positive),
  },
  {
    name: "limit-exempt-ips",
    env: "ACAPY_BRIDGE_LIMIT_EXEMPT_IPS",
    kind: "list",
    default: d.limitExemptAddresses,
    description:
      "Comma-separated client addresses the per-address limits do not apply to (a proxy on the same host shows every client as loopback); empty: none.",
    validate: rule((v: string[]) => {
      const bad = v.find((a) => !isIP(a));
      return bad === undefined ? undefined : `"${bad}" is not an IP address`;
    }),
  },
  {
    name: "http-headers-timeout-ms",
    env: "ACAPY_BRIDGE_HTTP_HEADERS_TIMEOUT_MS",
    kind: "integer",
    default: d.httpHeadersTimeoutMs,
    description: "A request whose headers are not all received within this gets 408 and its connection is closed.",
    validate: rule(check.positive),
  },
  {
    name: "http-request-timeout-ms",
    env: "ACAPY_BRIDGE_HTTP_REQUEST_TIMEOUT_MS",
    kind: "integer",
    default: d.httpRequestTimeoutMs,
    description:
      "A request whose headers and body are not all received within this gets 408, its connection is closed and its buffer freed (at least http-headers-timeout-ms).",
    validate: rule(check.positive),
  },
  {
    name: "http-keep-alive-timeout-ms",
    env: "ACAPY_BRIDGE_HTTP_KEEP_ALIVE_TIMEOUT_MS",
    kind: "integer",
    default: d.httpKeepAliveTimeoutMs,
    description:
      "An idle keep-alive connection is closed after this (keep it above a load balancer's idle timeout, e.g. 60 s on AWS ALB).",
    validate: rule(check.positive),
  },
  {
    name: "max-body-bytes-in-flight",
    env: "ACAPY_BRIDGE_MAX_BODY_BYTES_IN_FLIGHT",
    kind: "integer",
    default: d.maxBodyBytesInFlight,
    description:
      "Bytes of HTTP bodies the process holds at once while reading them and writing them to Redis; a new body above it gets 503 unread (at least max-message-bytes).",
    validate: rule(check.positive),
  },
  {
    name: "max-body-bytes-in-flight-per-ip",
    env: "ACAPY_BRIDGE_MAX_BODY_BYTES_IN_FLIGHT_PER_IP",
    kind: "integer",
    default: d.maxBodyBytesInFlightPerClient,
    description:
      "The share of max-body-bytes-in-flight one client address may hold; its next body above it gets 503 unread (at least max-message-bytes).",
    validate: rule(check.positive),
  },
  {
    name: "ws-first-frame-timeout-ms",
    env: "ACAPY_BRIDGE_WS_FIRST_FRAME_TIMEOUT_MS",
    kind: "integer",
    default: d.wsFirstFrameTimeoutMs,
    description: "Close (1008) a WebSocket that has sent no frame within this of opening (0 = never).",
    validate: rule(check.nonNegative),
  },
  {
    name: "admin-host",
    env: "ACAPY_BRIDGE_ADMIN_HOST",
    kind: "string",
    default: d.adminHost,
    description:
      "Address the admin listener binds to (ACA-Py's admin API through Redis); keep it on loopback or a private network, as ACA-Py's own admin port.",
    validate: rule(check.nonEmpty),
  },
  {
    name: "admin-port",
    env: "ACAPY_BRIDGE_ADMIN_PORT",
    kind: "integer",
    description:
      "Serve ACA-Py's admin API on this port, each call run by any live ACA-Py instance through Redis (unset: no admin listener).",
    validate: rule(check.port),
  },
  {
    name: "admin-max-body-bytes",
    env: "ACAPY_BRIDGE_ADMIN_MAX_BODY_BYTES",
    kind: "integer",
    default: d.adminMaxBodyBytes,
    description: "Largest admin request body forwarded to ACA-Py (413 above it; ACA-Py applies its own limit too).",
    validate: rule(check.positive),
  },
  {
    name: "admin-timeout-ms",
    env: "ACAPY_BRIDGE_ADMIN_TIMEOUT_MS",
    kind: "integer",
    default: d.adminTimeoutMs,
    description:
      "How long an admin call waits for ACA-Py: not taken by any instance by then, 503 (never run); taken, 504 (outcome unknown, never run again).",
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
  const exempt = parsed["limit-exempt-ips"];
  const adminHost = parsed["admin-host"];
  const adminPort = parsed["admin-port"];
  const config: RelayConfig = {
    httpHost: typeof host === "string" ? host : d.httpHost,
    httpPort: num(parsed, "http-port", d.httpPort),
    wsPort: typeof wsPort === "number" ? wsPort : undefined,
    maxMessageBytes: num(parsed, "max-message-bytes", d.maxMessageBytes),
    replyTimeoutMs: num(parsed, "reply-timeout-ms", d.replyTimeoutMs),
    inboundHighWaterMark: num(parsed, "inbound-high-water-mark", d.inboundHighWaterMark),
    inboundHighWaterBytes: num(parsed, "inbound-high-water-bytes", d.inboundHighWaterBytes),
    inboundRecipientCap: num(parsed, "inbound-recipient-cap", d.inboundRecipientCap),
    inboundRecipientWindowMs: num(parsed, "inbound-recipient-window-ms", d.inboundRecipientWindowMs),
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
    maxConnections: num(parsed, "max-connections", d.maxConnections),
    maxConnectionsPerClient: num(parsed, "max-connections-per-ip", d.maxConnectionsPerClient),
    rateLimitPerSecond: num(parsed, "rate-limit-per-ip", d.rateLimitPerSecond),
    rateLimitBurst: num(parsed, "rate-limit-burst", d.rateLimitBurst),
    rateLimitTrackedClients: num(parsed, "rate-limit-tracked-ips", d.rateLimitTrackedClients),
    limitExemptAddresses: Array.isArray(exempt) ? exempt : d.limitExemptAddresses,
    httpHeadersTimeoutMs: num(parsed, "http-headers-timeout-ms", d.httpHeadersTimeoutMs),
    httpRequestTimeoutMs: num(parsed, "http-request-timeout-ms", d.httpRequestTimeoutMs),
    httpKeepAliveTimeoutMs: num(parsed, "http-keep-alive-timeout-ms", d.httpKeepAliveTimeoutMs),
    maxBodyBytesInFlight: num(parsed, "max-body-bytes-in-flight", d.maxBodyBytesInFlight),
    maxBodyBytesInFlightPerClient: num(parsed, "max-body-bytes-in-flight-per-ip", d.maxBodyBytesInFlightPerClient),
    wsFirstFrameTimeoutMs: num(parsed, "ws-first-frame-timeout-ms", d.wsFirstFrameTimeoutMs),
    adminHost: typeof adminHost === "string" ? adminHost : d.adminHost,
    adminPort: typeof adminPort === "number" ? adminPort : undefined,
    adminMaxBodyBytes: num(parsed, "admin-max-body-bytes", d.adminMaxBodyBytes),
    adminTimeoutMs: num(parsed, "admin-timeout-ms", d.adminTimeoutMs),
  };
  checkRelayConfig(config);
  return config;
}

/** Rules between options, which the per-option validators cannot see. */
export function checkRelayConfig(config: RelayConfig): void {
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw new OptionsError(
      `--http-headers-timeout-ms (${config.httpHeadersTimeoutMs}) must not exceed --http-request-timeout-ms (${config.httpRequestTimeoutMs})`,
    );
  }
  for (const [flag, value] of [
    ["max-body-bytes-in-flight", config.maxBodyBytesInFlight],
    ["max-body-bytes-in-flight-per-ip", config.maxBodyBytesInFlightPerClient],
  ] as const) {
    if (value < config.maxMessageBytes) {
      throw new OptionsError(
        `--${flag} (${value}) must be at least --max-message-bytes (${config.maxMessageBytes}), or no message of the largest size could ever be read`,
      );
    }
  }
}
