import { DeadLetterReason } from "@acapy-bridge/protocol";
import type { TargetCategory } from "./target-policy.js";

/**
 * The result of one delivery attempt.
 *
 * Policy (stated once, here):
 * - any 2xx: delivered;
 * - network errors (refused, reset, DNS), connect and total timeouts, 408, 425,
 *   429 and every 5xx: retried with full-jitter backoff; a Retry-After
 *   (seconds or HTTP date) on 408/425/429/503 is honoured up to a cap;
 * - every other status (3xx is not followed, other 4xx): rejected, dead letter;
 * - an endpoint that is not a URL, or not http/https/ws/wss, or a ws/wss URL
 *   with a fragment (a WebSocket cannot be opened to it): dead letter;
 * - a request the HTTP client refuses to build from the job (a header name or
 *   value it rejects, an `expect` header), or any error a transport throws
 *   instead of answering with an outcome: dead letter, MALFORMED (the same job
 *   fails the same way every time);
 * - a target address the outbound target policy refuses (loopback, private, ...; see
 *   target-policy.ts), as a literal or as what the host name resolved to: dead letter,
 *   INVALID_ENDPOINT, never retried;
 * - after the attempt limit, or once the job's expiry has passed: dead letter.
 */
export type AttemptOutcome =
  | { ok: true; status: number }
  | {
      ok: false;
      retryable: boolean;
      /** For a dead letter when not retryable. */
      reason: DeadLetterReason;
      /** Status code or error, for logs and dead letters (never message content). */
      detail: string;
      retryAfterMs?: number | undefined;
      status?: number | undefined;
      /** The target policy refused the address connected to (counted and logged as such). */
      refusedTarget?: TargetCategory | undefined;
    };

export type EndpointKind = "http" | "ws";

export type EndpointCheck =
  | { ok: true; url: URL; kind: EndpointKind }
  | { ok: false; reason: DeadLetterReason; detail: string };

const SCHEMES: Record<string, EndpointKind> = { "http:": "http", "https:": "http", "ws:": "ws", "wss:": "ws" };

/** Parses an endpoint; anything the deliverer cannot deliver to is a dead letter with a reason. */
export function checkEndpoint(endpoint: string): EndpointCheck {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: DeadLetterReason.INVALID_ENDPOINT, detail: `not a URL: ${truncate(endpoint)}` };
  }
  const kind = SCHEMES[url.protocol];
  if (!kind) {
    return { ok: false, reason: DeadLetterReason.UNSUPPORTED_SCHEME, detail: `unsupported scheme "${url.protocol}"` };
  }
  if (!url.hostname) {
    return { ok: false, reason: DeadLetterReason.INVALID_ENDPOINT, detail: `no host in ${truncate(endpoint)}` };
  }
  // The WebSocket client refuses such a URL outright, on every attempt.
  if (kind === "ws" && url.hash) {
    return {
      ok: false,
      reason: DeadLetterReason.INVALID_ENDPOINT,
      detail: `fragment in WebSocket URL ${truncate(endpoint)}`,
    };
  }
  return { ok: true, url, kind };
}

function truncate(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

/** Parses Retry-After: delta seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function classifyStatus(status: number, retryAfter?: string): AttemptOutcome {
  if (status >= 200 && status < 300) return { ok: true, status };
  const retryable = status >= 500 || RETRYABLE_STATUS.has(status);
  return {
    ok: false,
    retryable,
    reason: DeadLetterReason.REJECTED,
    detail: `HTTP ${status}`,
    status,
    retryAfterMs: retryable ? parseRetryAfter(retryAfter) : undefined,
  };
}

/**
 * undici's verdicts on the request itself, before anything is sent: the job's headers are
 * invalid (UND_ERR_INVALID_ARG) or ask for what undici does not do (UND_ERR_NOT_SUPPORTED,
 * e.g. `expect`). Another attempt builds the same request.
 */
const REQUEST_REFUSED_CODES = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_NOT_SUPPORTED"]);

/**
 * Network-level failures (no usable HTTP status) are worth another attempt; a request the
 * HTTP client refuses to build from the job is not.
 */
export function classifyError(error: unknown): AttemptOutcome {
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? e?.name ?? "Error";
  if (code === TARGET_REFUSED_CODE) return targetRefused(error as TargetRefusal);
  if (REQUEST_REFUSED_CODES.has(code)) {
    return { ok: false, retryable: false, reason: DeadLetterReason.MALFORMED, detail: `${code}: ${e?.message}` };
  }
  return { ok: false, retryable: true, reason: DeadLetterReason.ATTEMPTS_EXHAUSTED, detail: `${code}: ${e?.message}` };
}

const TARGET_REFUSED_CODE = "ETARGETREFUSED";

interface TargetRefusal {
  message: string;
  category: TargetCategory;
}

/** The target policy refused the address: every attempt would be refused the same way. */
export function targetRefused(refusal: TargetRefusal): AttemptOutcome {
  return {
    ok: false,
    retryable: false,
    reason: DeadLetterReason.INVALID_ENDPOINT,
    detail: refusal.message,
    refusedTarget: refusal.category,
  };
}

/**
 * A transport threw instead of answering with an outcome: transports turn every network
 * failure into an outcome, so what they throw is about the job (or a bug), and retrying
 * it would only hold the recipient's lane.
 */
export function unsendable(error: unknown): AttemptOutcome {
  const e = error as { name?: string; message?: string } | undefined;
  return {
    ok: false,
    retryable: false,
    reason: DeadLetterReason.MALFORMED,
    detail: `could not be sent: ${e?.name ?? "Error"}: ${e?.message ?? String(error)}`,
  };
}

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  maxRetryAfterMs: number;
}

/**
 * Delay before attempt `attempts + 1`, after `attempts` failed ones (>= 1):
 * full jitter, random(0, min(cap, base * 2^(attempts - 1))); an endpoint's
 * Retry-After wins when given (up to the cap on Retry-After).
 */
export function retryDelayMs(
  policy: BackoffPolicy,
  attempts: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, policy.maxRetryAfterMs);
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
