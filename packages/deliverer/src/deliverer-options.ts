import { check, type OptionSpec, type OptionValue, type ParsedOptions } from "@acapy-bridge/operability";
import { keySpecs } from "@acapy-bridge/protocol";
import { DEFAULT_PUSH_CONFIG, type PushConfig, pushConfigFromOptions, pushOptionSpecs } from "./push-options.js";
import { cidrProblem } from "./target-policy.js";

function rule<T extends OptionValue>(validate: (value: T) => string | undefined): OptionSpec["validate"] {
  return validate as OptionSpec["validate"];
}

/** Everything the deliverer needs besides the Redis connection (the CLI's common options give that). */
export interface DelivererConfig {
  /** Deliveries in flight at once, over all partitions and endpoints. */
  concurrency: number;
  /** Deliveries in flight at once to one endpoint origin (scheme://host:port). */
  endpointConcurrency: number;
  connectTimeoutMs: number;
  /** Whole attempt: connect, send, response headers and body. */
  totalTimeoutMs: number;
  /** Attempts of one job before it is dead-lettered (1 = no retry). */
  maxAttempts: number;
  /** Full-jitter backoff: delay = random(0, min(cap, base * 2^(attempt - 1))). */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** A Retry-After longer than this is shortened to it. */
  maxRetryAfterMs: number;
  /** Ownership of a partition; renewed every third of it, given up (self-fence) after half of it without renewal. */
  leaseTtlMs: number;
  /** Liveness heartbeat; a deliverer silent for `leaseTtlMs` is presumed dead. */
  heartbeatMs: number;
  /** Entries read per XREADGROUP and the BLOCK time. */
  readCount: number;
  blockMs: number;
  /** Stream entries held in memory per partition (in lanes or in flight) before reading pauses. */
  partitionBuffer: number;
  /** How often each owned partition looks for parked recipients that are due. */
  retryPollMs: number;
  /**
   * An entry handed out more than this many times (crash loops) is dead-lettered as poison when a
   * new owner takes its partition over. Each read counts: the first, and one per takeover.
   */
  maxDeliveries: number;
  /** Approximate cap of each dead-letter stream (0 = none). */
  deadLetterCap: number;
  /** A reused WebSocket to an endpoint is closed after this long without a send. */
  wsIdleMs: number;
  /** How long a delivered entry's acknowledgement may wait to share a Redis call with others (0 = next turn). */
  ackLingerMs: number;
  /**
   * Address ranges (CIDRs) agents' endpoints may reach although the target policy refuses them
   * (loopback, private, link-local, ...: see target-policy.ts). Empty: public addresses only.
   */
  outboundAllowCidrs: string[];
  /** Push notifications to wallets' devices (push-options.ts). */
  push: PushConfig;
}

export const DEFAULT_DELIVERER_CONFIG: DelivererConfig = {
  concurrency: 256,
  endpointConcurrency: 32,
  connectTimeoutMs: 5_000,
  totalTimeoutMs: 30_000,
  maxAttempts: 15,
  backoffBaseMs: 1_000,
  backoffCapMs: 600_000,
  maxRetryAfterMs: 600_000,
  leaseTtlMs: 10_000,
  heartbeatMs: 2_000,
  readCount: 100,
  blockMs: 2_000,
  partitionBuffer: 1_000,
  retryPollMs: 200,
  maxDeliveries: 10,
  deadLetterCap: keySpecs.outboundDeadLetters.maxLength,
  wsIdleMs: 30_000,
  ackLingerMs: 20,
  outboundAllowCidrs: [],
  push: DEFAULT_PUSH_CONFIG,
};

const d = DEFAULT_DELIVERER_CONFIG;

type NumericKey = {
  [K in keyof DelivererConfig]: DelivererConfig[K] extends number ? K : never;
}[keyof DelivererConfig];

interface Field {
  key: NumericKey;
  name: string;
  description: string;
  allowZero?: boolean;
}

const FIELDS: Field[] = [
  { key: "concurrency", name: "delivery-concurrency", description: "Deliveries in flight at once (all endpoints)." },
  {
    key: "endpointConcurrency",
    name: "delivery-endpoint-concurrency",
    description: "Deliveries in flight at once to one endpoint (scheme://host:port).",
  },
  { key: "connectTimeoutMs", name: "delivery-connect-timeout-ms", description: "TCP/TLS connect timeout." },
  {
    key: "totalTimeoutMs",
    name: "delivery-timeout-ms",
    description: "Whole-attempt timeout (connect, send, response); then the attempt counts as failed and is retried.",
  },
  {
    key: "maxAttempts",
    name: "delivery-max-attempts",
    description: "Attempts of one message before it is dead-lettered (1 = never retry).",
  },
  {
    key: "backoffBaseMs",
    name: "delivery-backoff-base-ms",
    description: "Retry delay = random(0, min(cap, base * 2^(attempt-1))) (full jitter).",
  },
  { key: "backoffCapMs", name: "delivery-backoff-cap-ms", description: "Longest retry delay." },
  {
    key: "maxRetryAfterMs",
    name: "delivery-max-retry-after-ms",
    description: "A Retry-After from an endpoint is honoured up to this long.",
  },
  {
    key: "leaseTtlMs",
    name: "delivery-lease-ttl-ms",
    description:
      "Partition lease: renewed every third, self-fenced after half without renewal; a dead deliverer's partitions move after it.",
  },
  { key: "heartbeatMs", name: "delivery-heartbeat-ms", description: "Liveness heartbeat of this deliverer." },
  { key: "readCount", name: "delivery-read-count", description: "Entries read per XREADGROUP." },
  { key: "blockMs", name: "delivery-block-ms", description: "XREADGROUP BLOCK time." },
  {
    key: "partitionBuffer",
    name: "delivery-partition-buffer",
    description: "Entries of one partition held in memory before reading pauses (backpressure).",
  },
  { key: "retryPollMs", name: "delivery-retry-poll-ms", description: "How often due retries are looked for." },
  {
    key: "maxDeliveries",
    name: "delivery-max-deliveries",
    description:
      "An entry handed out more than this many times (the first read and one per takeover: a crash loop) is dead-lettered as poison.",
  },
  {
    key: "deadLetterCap",
    name: "delivery-dead-letter-cap",
    description: "Approximate cap of each outbound dead-letter stream (0 = none).",
    allowZero: true,
  },
  { key: "wsIdleMs", name: "delivery-ws-idle-ms", description: "Close a reused WebSocket after this long idle." },
  {
    key: "ackLingerMs",
    name: "delivery-ack-linger-ms",
    description:
      "Longest wait of a delivered entry's acknowledgement for others to share its Redis call (fewer calls at low traffic; a crash meanwhile only redelivers).",
    allowZero: true,
  },
];

function envName(name: string): string {
  return `ACAPY_BRIDGE_${name.toUpperCase().replace(/-/g, "_")}`;
}

const OUTBOUND_ALLOW_CIDRS = "outbound-allow-cidrs";

/** The deliverer's own options (the CLI adds the common ones: Redis, prefix, partitions, logging, ops port). */
export const delivererOptionSpecs: OptionSpec[] = [
  ...FIELDS.map(
    (f): OptionSpec => ({
      name: f.name,
      env: envName(f.name),
      kind: "integer",
      default: d[f.key],
      description: f.description,
      validate: rule(f.allowZero ? check.nonNegative : check.positive),
    }),
  ),
  {
    name: OUTBOUND_ALLOW_CIDRS,
    env: envName(OUTBOUND_ALLOW_CIDRS),
    kind: "list",
    default: d.outboundAllowCidrs,
    description:
      "Comma-separated CIDRs agents' endpoints may reach although they are not public (loopback, private, link-local, CGNAT, ...), e.g. 127.0.0.0/8,10.1.0.0/16. Empty: every non-public address is refused and the message dead-lettered. Webhook URLs are not checked.",
    validate: rule((cidrs: string[]) => {
      for (const cidr of cidrs) {
        const problem = cidrProblem(cidr);
        if (problem) return problem;
      }
      return undefined;
    }),
  },
  ...pushOptionSpecs,
];

/** Builds the deliverer's config from parsed options; absent options take the defaults. */
export function delivererConfigFromOptions(parsed: ParsedOptions): DelivererConfig {
  const config = { ...DEFAULT_DELIVERER_CONFIG };
  for (const f of FIELDS) {
    const v = parsed[f.name];
    if (typeof v === "number") config[f.key] = v;
  }
  const allow = parsed[OUTBOUND_ALLOW_CIDRS];
  if (Array.isArray(allow)) config.outboundAllowCidrs = allow;
  config.push = pushConfigFromOptions(parsed);
  return config;
}
