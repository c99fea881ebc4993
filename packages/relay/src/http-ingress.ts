import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { InboundKind, newMessageId, Transport } from "@acapy-bridge/protocol";
import express, { type Request, type Response } from "express";
import { bodyDigest, inspectEnvelope } from "./envelope-recipient.js";
import { agentMessage, BUSY_DETAIL, BUSY_OUTCOME, type WriteResult } from "./inbound-writer.js";
import type { RelayContext } from "./relay-context.js";
import type { RequestOutcome } from "./relay-metrics.js";

const INVITATION_TEXT =
  "You have received a connection invitation. To accept the invitation, paste it into your agent application.";

type Respond = (status: number, headers: Record<string, string>, body?: Buffer | string) => void;

function responder(res: ServerResponse): Respond {
  return (status, headers, body) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, headers);
    res.end(body);
  };
}

function problem(respond: Respond, status: number, error: string, detail: string, extra: Record<string, string> = {}) {
  respond(status, { "content-type": "application/json; charset=utf-8", ...extra }, JSON.stringify({ error, detail }));
}

/**
 * POST / as ACA-Py's own HTTP transport answers it. A message is written to
 * its inbound partition before any 2xx; when Redis cannot take it the answer
 * is 503 with Retry-After, never 200. Mounted on the Node server directly (the
 * hot path: no router, no middleware); everything else goes to `createHttpApp`.
 */
export function createPostHandler(ctx: RelayContext): (req: IncomingMessage, res: ServerResponse) => void {
  const limit = ctx.config.maxMessageBytes;
  const retryAfter = { "retry-after": String(ctx.config.retryAfterSeconds) };
  const count = (outcome: RequestOutcome) => ctx.metrics.requests.inc({ transport: "http", outcome });
  const tooLarge = (req: IncomingMessage, respond: Respond, remote: string) => {
    ctx.rejections.warn(
      "http:too_large",
      { event: "relay.rejected", transport: "http", reason: "too_large", limit, remote },
      "rejected message: body above the size limit",
    );
    count("too_large");
    problem(respond, 413, "too_large", `the body exceeds ${limit} bytes`, { connection: "close" });
    req.resume();
  };

  const budget = ctx.limits.bodies;
  const overBudget = (req: IncomingMessage, respond: Respond) => {
    count("over_budget");
    problem(respond, 503, "busy", "too many bodies are being received at once; retry", {
      ...retryAfter,
      connection: "close",
    });
    req.resume();
  };

  return (req, res) => {
    const respond = responder(res);
    const remote = req.socket.remoteAddress ?? "";
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      tooLarge(req, respond, remote);
      return;
    }
    // A declared length is taken at once, so a slow body cannot start that will not fit; a chunked
    // body takes its share as it comes.
    const client = ctx.limits.clientOf(remote);
    let reserved = Number.isFinite(declared) && declared > 0 ? declared : 0;
    if (budget.exhaustedFor(client) || !budget.tryReserve(client, reserved)) {
      overBudget(req, respond);
      return;
    }
    const release = () => {
      budget.release(client, reserved);
      reserved = 0;
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    const reject = () => {
      rejected = true;
      chunks.length = 0;
      release();
    };
    req.on("data", (chunk: Buffer) => {
      if (rejected) return;
      size += chunk.length;
      if (size > limit) {
        reject();
        tooLarge(req, respond, remote);
        return;
      }
      if (size > reserved) {
        if (!budget.tryReserve(client, size - reserved)) {
          reject();
          overBudget(req, respond);
          return;
        }
        reserved = size;
      }
      chunks.push(chunk);
    });
    req.on("error", reject);
    // Cut off (request timeout, client gone) before its end: its bytes are no longer held.
    req.on("close", () => {
      if (!req.complete) reject();
    });
    req.on("end", () => {
      if (rejected) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
      chunks.length = 0;
      void handleMessage(
        ctx,
        body,
        req.headers["content-type"] ?? "",
        remote,
        res,
        respond,
        count,
        retryAfter,
        release,
      );
    });
  };
}

async function handleMessage(
  ctx: RelayContext,
  body: Buffer,
  contentType: string,
  remote: string,
  res: ServerResponse,
  respond: Respond,
  count: (outcome: RequestOutcome) => void,
  retryAfter: Record<string, string>,
  /** Gives back the body's share of the byte budget: once it is in Redis (or refused), it is no longer held. */
  releaseBody: () => void,
): Promise<void> {
  if (ctx.draining) {
    releaseBody();
    problem(respond, 503, "shutting_down", "this relay is shutting down; retry", {
      ...retryAfter,
      connection: "close",
    });
    count("shutting_down");
    return;
  }
  const inspection = inspectEnvelope(body);
  if (!inspection.ok) {
    releaseBody();
    ctx.rejections.warn(
      `http:rejected:${inspection.reason}`,
      { event: "relay.rejected", transport: "http", reason: inspection.reason, bytes: body.length, remote },
      `rejected message: ${inspection.detail}`,
    );
    problem(respond, 400, inspection.reason, inspection.detail);
    count("bad_request");
    return;
  }

  const mid = newMessageId();
  const now = Date.now();
  // The relay cannot see ~transport.return_route inside the JWE, so it waits
  // for ACA-Py's answer, unless no direct response is possible at all, or no ACA-Py is alive to give
  // one: then the message is still written (a shim takes it when one starts; its reply goes back to
  // ACA-Py as a returned reply, as after a reply timeout) and answered 202 at once.
  const noLiveShim = inspection.mayGetDirectResponse && !ctx.shims.assumedLive && !(await ctx.shims.anyLive());
  const waitForReply = inspection.mayGetDirectResponse && !noLiveShim;
  const message = agentMessage({
    mid,
    kind: InboundKind.AGENT_MESSAGE,
    recipientKey: inspection.routingKey,
    contentType,
    body,
    receivedAtMs: BigInt(now),
    expiresAtMs: ctx.config.inboundTtlMs > 0 ? BigInt(now + ctx.config.inboundTtlMs) : 0n,
    transport: Transport.HTTP,
    relayId: ctx.relayId,
    requestId: inspection.mayGetDirectResponse ? mid : "",
    remoteAddress: remote,
  });
  // Wait before writing: a fast reply must find its request.
  const reply = waitForReply ? ctx.pending.wait(mid, ctx.config.replyTimeoutMs) : undefined;
  if (reply) {
    res.on("close", () => {
      if (!res.writableFinished) ctx.pending.cancel(mid);
    });
  }

  let written: WriteResult;
  try {
    written = await ctx.writer.write(message, bodyDigest(body));
  } catch (error) {
    releaseBody();
    ctx.pending.cancel(mid);
    ctx.rejections.error(
      "http:redis_unavailable",
      { event: "relay.redis_unavailable", transport: "http", mid, err: (error as Error).message },
      "could not write the message to Redis; answered 503",
    );
    problem(respond, 503, "redis_unavailable", "the message could not be queued; retry", retryAfter);
    count("redis_unavailable");
    return;
  }
  releaseBody();
  ctx.metrics.enqueueSeconds.observe({ transport: "http" }, written.seconds);
  const { outcome } = written;
  if (outcome.status === "busy") {
    ctx.pending.cancel(mid);
    const { reason, amount } = outcome;
    ctx.rejections.warn(
      `http:${BUSY_OUTCOME[reason]}`,
      { event: "relay.partition_full", transport: "http", mid, partition: written.partition, reason, amount },
      `${BUSY_DETAIL[reason]}; answered 503`,
    );
    problem(respond, 503, "busy", "too many messages are waiting for ACA-Py; retry", retryAfter);
    count(BUSY_OUTCOME[reason]);
    return;
  }
  if (outcome.status === "duplicate") {
    ctx.pending.cancel(mid);
    ctx.logger.info({ event: "relay.duplicate", transport: "http", mid }, "identical body already queued");
    respond(200, {});
    count("duplicate");
    return;
  }
  ctx.logger.debug(
    { event: "relay.queued", transport: "http", mid, partition: written.partition, entry: outcome.entryId },
    "message queued",
  );
  if (noLiveShim) {
    ctx.rejections.warn(
      "http:no_live_shim",
      { event: "relay.no_live_shim", transport: "http", mid, partition: written.partition },
      "no live ACA-Py (shim) to answer; answered 202 at once (the message stays queued)",
    );
    respond(202, {});
    count("no_live_shim");
    return;
  }
  if (!reply) {
    respond(200, {});
    count("accepted");
    return;
  }
  const answer = await reply;
  if (answer.kind === "cancelled") {
    ctx.logger.info({ event: "relay.client_gone", mid }, "client closed the request before ACA-Py answered");
    count("client_gone");
    return;
  }
  if (answer.kind === "timeout") {
    ctx.logger.warn(
      { event: "relay.reply_timeout", mid, timeoutMs: ctx.config.replyTimeoutMs },
      "no answer from ACA-Py in time; answered 202 (the message stays queued)",
    );
    respond(202, {});
    count("accepted");
    return;
  }
  const r = answer.reply;
  const status = r.status || 200;
  ctx.metrics.directResponseSeconds.observe({ status: String(status) }, (Date.now() - now) / 1000);
  count("answered");
  if (r.body.length > 0) {
    respond(
      status,
      { "content-type": r.contentType || "application/didcomm-envelope-enc" },
      Buffer.from(r.body.buffer, r.body.byteOffset, r.body.byteLength),
    );
  } else if (status >= 400) {
    problem(
      respond,
      status,
      status === 400 ? "rejected_by_agent" : "agent_error",
      r.error || "ACA-Py could not process it",
    );
  } else {
    respond(status, {});
  }
}

/** GET / like ACA-Py's HTTP transport (200; `?c_i=` gets the invitation text); anything else 404/405. */
export function createHttpApp(): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/", (req: Request, res: Response) => {
    if (req.query.c_i) {
      res.type("text/plain").send(INVITATION_TEXT);
    } else {
      res.status(200).end();
    }
  });
  app.use((req: Request, res: Response) => {
    res.status(req.path === "/" ? 405 : 404).json({ error: "not_found", detail: `${req.method} ${req.path}` });
  });
  return app;
}

/** The DIDComm listener's request handler: POST / on the hot path, the rest through express. */
export function createRequestHandler(ctx: RelayContext): (req: IncomingMessage, res: ServerResponse) => void {
  const post = createPostHandler(ctx);
  const app = createHttpApp();
  const retryAfter = String(ctx.config.retryAfterSeconds);
  return (req, res) => {
    if (ctx.limits.connections.isRefused(req.socket)) {
      req.resume();
      problem(responder(res), 503, "too_many_connections", "too many connections are open; retry", {
        "retry-after": retryAfter,
        connection: "close",
      });
      return;
    }
    const rate = ctx.limits.takeRequest(ctx.limits.clientOf(req.socket.remoteAddress ?? ""));
    if (!rate.allowed) {
      ctx.metrics.rateLimited.inc({ transport: "http" });
      req.resume();
      problem(responder(res), 429, "rate_limited", "too many requests from this address; retry later", {
        "retry-after": String(rate.retryAfterSeconds),
        connection: "close",
      });
      return;
    }
    if (req.method === "POST" && (req.url === "/" || req.url?.startsWith("/?"))) {
      post(req, res);
    } else {
      app(req, res);
    }
  };
}

const CLIENT_ERROR_ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: "408 Request Timeout",
  HPE_HEADER_OVERFLOW: "431 Request Header Fields Too Large",
};

/**
 * The DIDComm listener's 'clientError': what Node itself would answer (408 for a request not all
 * in within its headers or request timeout, 431, else 400), then the connection destroyed, which
 * frees what was buffered of its body; timeouts are counted.
 */
export function onClientError(ctx: RelayContext): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") ctx.metrics.timedOut.inc({ kind: "http_request" });
    if (error.code !== "ECONNRESET" && socket.writable) {
      const status = CLIENT_ERROR_ANSWERS[error.code ?? ""] ?? "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  };
}
