import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { newMessageId } from "@acapy-bridge/protocol";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { CLOSE } from "./close-codes.js";
import { FrameReadBackpressure } from "./frame-read-backpressure.js";
import { writeFrameToInbound } from "./frame-to-inbound.js";
import type { RelayContext } from "./relay-context.js";
import { SocketHeartbeat } from "./socket-heartbeat.js";

/** How long shutdown waits for wallets to answer the close frame before terminating their sockets. */
const CLOSE_HANDSHAKE_WAIT_MS = 2_000;
/** How long shutdown then waits for the terminated sockets' 'close' (normally an event-loop turn or two). */
const TERMINATED_CLOSE_WAIT_MS = 2_000;

/** Answers an upgrade it refuses and closes the connection, as ws's own `abortHandshake` does. */
function rejectUpgrade(socket: Duplex, status: number, text: string, headers = ""): void {
  // Node takes the HTTP server's 'error' listener off the socket before emitting 'upgrade': without
  // this one, a peer that already reset the connection fails the write below with an unhandled
  // ECONNRESET, which ends the process.
  socket.on("error", () => socket.destroy());
  // Nothing more is read from it, and a peer that keeps it open would otherwise hold it for good.
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${headers}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * WebSocket ingress: accepts upgrades and follows each socket's events. Its frames go through
 * `FrameReadBackpressure` to `writeFrameToInbound` (one frame, one DIDComm message in Redis); its
 * pongs to the heartbeat (`alive`) and to its pushes' confirmations; its close to the registry,
 * whose `onGone` returns what it still owed.
 */
export class WebSocketIngress {
  private readonly wss: WebSocketServer;
  private readonly heartbeat: SocketHeartbeat;
  private readonly frames: FrameReadBackpressure;

  constructor(private readonly ctx: RelayContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.config.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.heartbeat = new SocketHeartbeat(ctx.sockets, ctx.config, ctx.logger, ctx.metrics);
    this.frames = new FrameReadBackpressure(
      ctx.sockets,
      ctx.config.wsMaxFramesInFlight,
      (id, socket, body, isBinary) => writeFrameToInbound(ctx, id, socket, body, isBinary),
      ctx.logger,
      ctx.metrics,
    );
  }

  start(): void {
    this.heartbeat.start();
  }

  /** The `upgrade` handler of an HTTP server. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const origin = req.headers.origin;
    const allowed = this.ctx.config.allowedOrigins;
    if (this.ctx.draining) {
      rejectUpgrade(socket, 503, "Service Unavailable");
      return;
    }
    const retryAfter = (seconds: number) => `Retry-After: ${seconds}\r\n`;
    if (this.ctx.limits.connections.isRefused(req.socket)) {
      rejectUpgrade(socket, 503, "Service Unavailable", retryAfter(this.ctx.config.retryAfterSeconds));
      return;
    }
    const rate = this.ctx.limits.takeRequest(this.ctx.limits.clientOf(req.socket.remoteAddress ?? ""));
    if (!rate.allowed) {
      this.ctx.metrics.rateLimited.inc({ transport: "ws" });
      rejectUpgrade(socket, 429, "Too Many Requests", retryAfter(rate.retryAfterSeconds));
      return;
    }
    if (origin && allowed.length > 0 && !allowed.includes("*") && !allowed.includes(origin)) {
      this.ctx.logger.warn({ event: "relay.ws_origin_rejected", origin }, "WebSocket from a disallowed Origin");
      rejectUpgrade(socket, 403, "Forbidden");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  };

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const id = `ws-${newMessageId()}`;
    const remote = req.socket.remoteAddress ?? "";
    const tracked = this.ctx.sockets.add(id, ws, remote, req.socket);
    this.heartbeat.ensureRunning();
    this.ctx.logger.debug({ event: "relay.ws_open", socket: id, remote }, "WebSocket opened");
    ws.on("pong", (data: Buffer) => {
      tracked.alive = true;
      tracked.confirmations.pongReceived(data);
    });
    const firstFrameTimer = this.closeIfSilent(id, ws);
    ws.on("message", (data: RawData, isBinary: boolean) => {
      clearTimeout(firstFrameTimer);
      tracked.lastActivity = performance.now();
      tracked.alive = true;
      this.frames.received(id, tracked, toBuffer(data), isBinary);
    });
    ws.on("error", (error: Error & { code?: string }) => {
      // ws closes with 1009 itself when a frame exceeds maxPayload.
      const tooLarge = error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
      if (tooLarge) this.ctx.metrics.requests.inc({ transport: "ws", outcome: "too_large" });
      this.ctx.logger.warn(
        {
          event: tooLarge ? "relay.rejected" : "relay.ws_error",
          reason: tooLarge ? "too_large" : error.code,
          socket: id,
        },
        error.message,
      );
    });
    ws.on("close", (code: number) => {
      clearTimeout(firstFrameTimer);
      this.ctx.sockets.gone(id, tracked);
      this.ctx.logger.debug({ event: "relay.ws_close", socket: id, code }, "WebSocket closed");
    });
  }

  /**
   * Every wallet and agent sends its first frame as it opens a socket (a message, a pickup
   * request); one that sends none within the timeout only holds a connection, and is closed.
   */
  private closeIfSilent(id: string, ws: WebSocket): NodeJS.Timeout | undefined {
    const timeoutMs = this.ctx.config.wsFirstFrameTimeoutMs;
    if (timeoutMs <= 0) return undefined;
    const timer = setTimeout(() => {
      this.ctx.metrics.timedOut.inc({ kind: "ws_first_frame" });
      this.ctx.logger.debug({ event: "relay.ws_silent", socket: id, timeoutMs }, "no frame since the socket opened");
      ws.close(CLOSE.policyViolation, "no frame received");
      // A peer that does not answer the close frame does not hold the connection past the close handshake wait.
      setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_WAIT_MS).unref();
    }, timeoutMs);
    timer.unref();
    return timer;
  }

  async stop(): Promise<void> {
    this.heartbeat.stop();
    const { sockets, logger } = this.ctx;
    sockets.closeAll(CLOSE.goingAway, "relay shutting down");
    if (!(await sockets.allGone(CLOSE_HANDSHAKE_WAIT_MS))) {
      sockets.terminateAll();
      // Each socket's 'close' starts returning its unconfirmed pushes to the mailbox (WalletPushes'
      // onSocketGone): the caller settles that work next, so it must have started before the Redis clients close.
      if (!(await sockets.allGone(TERMINATED_CLOSE_WAIT_MS))) {
        logger.warn(
          { event: "relay.ws_close_wait_timeout", sockets: sockets.notGone },
          "terminated sockets did not report their close in time; their unconfirmed pushes stay pending in the inbox",
        );
      }
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
