import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  type AdminAnswer,
  AdminNoLiveInstanceError,
  AdminOutcomeUnknownError,
  type RedisAdminClient,
} from "@acapy-bridge/admin-requests";
import type { Logger } from "@acapy-bridge/operability";
import type { AdminMetrics, AdminUnansweredReason } from "./admin-metrics.js";

const UNANSWERED_REASON: Record<AdminNoLiveInstanceError["reason"], AdminUnansweredReason> = {
  "no-live-instance": "no_live_instance",
  "not-taken-in-time": "not_taken_in_time",
  "redis-unreachable": "redis_error",
};

export interface AdminListenerConfig {
  /** Largest request body forwarded (413 above it). */
  maxBodyBytes: number;
  /** Headers and body of a request must be in within this (408), as on the DIDComm listener. */
  requestTimeoutMs: number;
  /** Seconds announced in Retry-After with a 503. */
  retryAfterSeconds: number;
}

// The relay frames the answer itself: Content-Length from the body, its own connection handling.
const ANSWER_HEADERS_NOT_COPIED = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (declared > maxBytes) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => resolve(Buffer.concat(chunks, size)));
    req.once("error", reject);
  });
}

function sendAnswer(res: ServerResponse, answer: AdminAnswer): void {
  const flat: string[] = [];
  for (const [name, value] of answer.headers) {
    if (!ANSWER_HEADERS_NOT_COPIED.has(name.toLowerCase())) flat.push(name, value);
  }
  flat.push("Content-Length", String(answer.body.length));
  res.writeHead(answer.status, flat);
  res.end(answer.body);
}

function sendBridgeError(
  res: ServerResponse,
  status: number,
  body: { error: string; executed: boolean | "unknown"; reason: string },
  retryAfterSeconds?: number,
): void {
  const json = Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": json.length,
    "X-Acapy-Bridge-Error": body.reason,
  };
  if (retryAfterSeconds !== undefined) headers["Retry-After"] = retryAfterSeconds;
  res.writeHead(status, headers);
  res.end(json);
}

/**
 * The relay's admin listener: ACA-Py's admin API, each call carried through Redis to any live
 * ACA-Py instance (docs/admin-api.md). A listener of its own, apart from the DIDComm port, so that
 * operators keep it off the public network; ACA-Py checks the API key and wallet tokens itself.
 * Errors of the bridge (not ACA-Py's) are JSON with `executed` and an `X-Acapy-Bridge-Error` header.
 */
export function createAdminServer(
  admin: RedisAdminClient,
  config: AdminListenerConfig,
  metrics: AdminMetrics,
  logger: Logger,
): Server {
  const answered = (res: ServerResponse, started: number, outcome: string): void => {
    metrics.requests.inc({ status: String(res.statusCode) });
    metrics.latency.observe({ outcome }, (performance.now() - started) / 1000);
  };
  const unanswered = (reason: AdminUnansweredReason, req: IncomingMessage, detail: string): void => {
    metrics.unanswered.inc({ reason });
    logger.warn({ event: "relay.admin_unanswered", reason, method: req.method, path: req.url?.split("?")[0] }, detail);
  };

  const server = createServer(
    { requestTimeout: config.requestTimeoutMs, headersTimeout: Math.min(config.requestTimeoutMs, 10_000) },
    (req, res) => {
      const method = req.method ?? "GET";
      const path = req.url ?? "/";
      if (req.headers.upgrade) {
        sendBridgeError(res, 501, {
          error: "WebSocket upgrades (ACA-Py's admin /ws) are not carried through Redis: read events from Redis",
          executed: false,
          reason: "upgrade_not_supported",
        });
        return;
      }
      readBody(req, config.maxBodyBytes)
        .then(async (body) => {
          const started = performance.now();
          try {
            const answer = await admin.request({ method, path, headers: req.headers, body });
            metrics.executedBy.inc({ instance: answer.instanceId });
            sendAnswer(res, answer);
            answered(res, started, "answered");
          } catch (error) {
            if (error instanceof AdminNoLiveInstanceError) {
              unanswered(UNANSWERED_REASON[error.reason], req, error.message);
              sendBridgeError(
                res,
                503,
                { error: error.message, executed: false, reason: error.reason },
                config.retryAfterSeconds,
              );
              answered(res, started, "not_executed");
            } else if (error instanceof AdminOutcomeUnknownError) {
              unanswered("outcome_unknown", req, error.message);
              sendBridgeError(res, 504, { error: error.message, executed: "unknown", reason: "outcome-unknown" });
              answered(res, started, "outcome_unknown");
            } else {
              unanswered("redis_error", req, `admin call failed in Redis: ${(error as Error).message}`);
              sendBridgeError(res, 502, {
                error: "the relay could not queue the call in Redis; it may or may not have reached ACA-Py",
                executed: "unknown",
                reason: "redis-error",
              });
              answered(res, started, "redis_error");
            }
          }
        })
        .catch((error: unknown) => {
          if (!(error instanceof BodyTooLarge)) {
            res.destroy();
            return;
          }
          sendBridgeError(res, 413, {
            error: `request body over ${config.maxBodyBytes} bytes (--admin-max-body-bytes)`,
            executed: false,
            reason: "body-too-large",
          });
          res.once("finish", () => req.destroy());
        });
    },
  );
  return server;
}
