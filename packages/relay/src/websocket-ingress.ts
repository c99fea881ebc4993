import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { InboundKind, newMessageId, Transport, type WalletMessage } from "@acapy-bridge/protocol";
import { type RawData, WebSocket, WebSocketServer } from "ws";
import { bodyDigest, inspectEnvelope } from "./envelope-recipient.js";
import { agentMessage } from "./inbound-writer.js";
import type { RelayContext } from "./relay-context.js";
import { DEFAULT_RELAY_CONFIG } from "./relay-options.js";

/** Close codes (RFC 6455 and the IANA registry). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  tooLarge: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;

/** A close frame's payload is at most 125 bytes, two of them the code (RFC 6455, 5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

/** Codes a close frame may carry: ws throws on any other (1004-1006 and 1015 are reserved, never sent). */
function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999))
  );
}

/**
 * A close code and reason that ws can send: an invalid code becomes 1011, a reason over 123 UTF-8
 * bytes is cut on a character boundary. They come from ACA-Py through Redis, and ws.close throws
 * on either after it marked the socket closing, which would leave it half closed.
 */
export function sendableClose(code: number, reason: string): { code: number; reason: string; adjusted: boolean } {
  const sendableCode = isSendableCloseCode(code) ? code : CLOSE.internalError;
  const bytes = Buffer.from(reason, "utf8");
  let sendableReason = reason;
  if (bytes.length > MAX_CLOSE_REASON_BYTES) {
    let end = MAX_CLOSE_REASON_BYTES;
    // Back off to the start of the character the limit falls in (continuation bytes are 10xxxxxx).
    while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
    sendableReason = bytes.subarray(0, end).toString("utf8");
  }
  return {
    code: sendableCode,
    reason: sendableReason,
    adjusted: sendableCode !== code || sendableReason !== reason,
  };
}

/** A wallet message written to a socket and not yet confirmed by a pong (docs/mediator.md). */
export interface UnconfirmedPush {
  entryId: string;
  message: WalletMessage;
  /** The confirmation ping sent after it: its pong confirms this frame. */
  ping: number;
  writtenAt: number;
}

export interface TrackedSocket {
  ws: WebSocket;
  /** A frame or a pong came since the last heartbeat ping. */
  alive: boolean;
  /** When the last heartbeat ping went out (performance.now(): the heartbeat ignores wall-clock steps). */
  pingedAt: number;
  /** Last frame in or out (performance.now()). */
  lastActivity: number;
  remote: string;
  /** Session epoch: ms * 1000 + counter at open, monotonic for this relay. */
  epoch: bigint;
  /** Pushes written and not yet confirmed, oldest first. */
  unconfirmed: UnconfirmedPush[];
  /** Sequence of the last confirmation ping sent (0 = none). */
  pingSeq: number;
  /** A confirmation ping is scheduled (one per burst of frames). */
  pingScheduled: boolean;
  /** Wallet keys this socket received pushes for (their routes are cleared when it closes). */
  walletKeys: Set<string>;
  /** Frames of this socket being written to Redis now. */
  framesInFlight: number;
  /** Frames received while `framesInFlight` was at its cap (ws had parsed them before reading paused). */
  framesWaiting: { body: Buffer; isBinary: boolean }[];
  /** Reading from the socket is paused until its frames in flight drop below the cap. */
  readingPaused: boolean;
  /** The TCP connection under the WebSocket (absent in tests with stand-ins): bytes sent to the wallet. */
  tcp: Socket | undefined;
  /** Bytes of the stream handed to Node up to the last heartbeat ping. */
  sentAtPing: number;
  /** Bytes sent between the ping before and the last ping: all that can still be ahead of the last ping. */
  sentAheadOfPing: number;
}

/**
 * Whether a socket whose pong is late may still be receiving what was sent before its ping: the
 * pong comes only after those bytes, and a wallet on a slow link takes seconds for a large frame.
 * Judged from what was sent, not from what the wallet took: Node does not see what the kernel still
 * holds (it takes a megabyte or more at once), and reading that per socket costs too much at scale.
 */
function mayStillBeReceiving(s: TrackedSocket, now: number): boolean {
  if (s.sentAheadOfPing <= PING_SIZED_BYTES) return false;
  const graceMs = Math.min(MAX_TRANSFER_GRACE_MS, (s.sentAheadOfPing * 1000) / SLOWEST_WALLET_BYTES_PER_SECOND);
  return now - s.pingedAt < graceMs;
}

/** When a socket counts as a slow consumer (see `SocketRegistry.send`). */
export interface SendLimits {
  sendTimeoutMs: number;
  maxBufferedBytes: number;
}

export type SlowConsumerReason = "send_timeout" | "buffer_full";

interface HeartbeatRound {
  entries: MapIterator<[string, TrackedSocket]>;
  startedAt: number;
  /** Sockets open when the round started: the pace is set by them. */
  size: number;
  visited: number;
  finished?: boolean;
}

let lastEpochMs = 0;
let epochCounter = 0;

/** A session epoch that grows with time and within one millisecond (at most 1000 opens per ms). */
export function nextSessionEpoch(now = Date.now()): bigint {
  if (now > lastEpochMs) {
    lastEpochMs = now;
    epochCounter = 0;
  } else {
    epochCounter = Math.min(epochCounter + 1, 999);
  }
  return BigInt(lastEpochMs) * 1000n + BigInt(epochCounter);
}

/** How long shutdown waits for wallets to answer the close frame before terminating their sockets. */
const CLOSE_HANDSHAKE_WAIT_MS = 2_000;
/** How long shutdown then waits for the terminated sockets' 'close' (normally an event-loop turn or two). */
const TERMINATED_CLOSE_WAIT_MS = 2_000;

/**
 * Bytes ahead of a ping below which a late pong is not explained by a transfer in progress: a ping
 * and a few small frames, which a live wallet receives within half a heartbeat.
 */
const PING_SIZED_BYTES = 4 * 1024;
/**
 * The slowest link a wallet is expected to receive on (about 130 kbit/s): a late pong behind N bytes
 * is waited for N / this, at most `MAX_TRANSFER_GRACE_MS`. A dead wallet with a large frame
 * outstanding is found that much later; its unconfirmed messages return to its mailbox then.
 */
const SLOWEST_WALLET_BYTES_PER_SECOND = 16 * 1024;
const MAX_TRANSFER_GRACE_MS = 120_000;

/** Ticks the heartbeat round is spread over. */
const HEARTBEAT_TICKS_PER_ROUND = 30;

/** The open sockets of this relay, by socket id (the id travels with every frame through Redis). */
export class SocketRegistry {
  private readonly sockets = new Map<string, TrackedSocket>();
  /**
   * Sockets terminated and already out of `sockets` whose 'close' has not come yet: their `onGone`
   * (returning what they owed) is still to run, and shutdown must not close Redis before it.
   */
  private readonly terminatedNotClosed = new Set<TrackedSocket>();
  /** The heartbeat round under way (a live iterator: sockets closed meanwhile are skipped; those opened wait for the next round). */
  private round: HeartbeatRound | undefined;
  /** Called once per socket when it is gone (closed or terminated), with what it still owed. */
  onGone: ((id: string, socket: TrackedSocket) => void) | undefined;
  /** Called when `send` terminated a socket as a slow consumer (its `onGone` follows with the close). */
  onSlowConsumer: ((id: string, reason: SlowConsumerReason, bufferedBytes: number) => void) | undefined;
  /** Frames of all sockets (open or closed since) being written to Redis now: each holds its body. */
  framesInFlight = 0;

  constructor(
    private readonly limits: SendLimits = {
      sendTimeoutMs: DEFAULT_RELAY_CONFIG.wsSendTimeoutMs,
      maxBufferedBytes: DEFAULT_RELAY_CONFIG.wsMaxBufferedBytes,
    },
  ) {}

  get size(): number {
    return this.sockets.size;
  }

  add(id: string, ws: WebSocket, remote: string, tcp?: Socket): TrackedSocket {
    const tracked: TrackedSocket = {
      ws,
      alive: true,
      pingedAt: 0,
      lastActivity: performance.now(),
      remote,
      epoch: nextSessionEpoch(),
      unconfirmed: [],
      pingSeq: 0,
      pingScheduled: false,
      walletKeys: new Set(),
      framesInFlight: 0,
      framesWaiting: [],
      readingPaused: false,
      tcp,
      sentAtPing: 0,
      sentAheadOfPing: 0,
    };
    this.sockets.set(id, tracked);
    return tracked;
  }

  get(id: string): TrackedSocket | undefined {
    return this.sockets.get(id);
  }

  remove(id: string): void {
    this.sockets.delete(id);
  }

  /** The socket closed: forget it and hand what it owed to `onGone`. */
  gone(id: string, tracked: TrackedSocket): void {
    if (this.sockets.get(id) === tracked) this.sockets.delete(id);
    this.terminatedNotClosed.delete(tracked);
    this.onGone?.(id, tracked);
  }

  /**
   * Sends one frame; resolves false when the socket is gone or the write failed. The inbox waits
   * for each send before that socket's next entry, and ws reports a send only once the kernel took
   * every byte: a wallet that stops reading (while its own frames keep the heartbeat happy) would
   * hold its own socket's entries, and room in the inbox's bounded hand, for good. So a slow consumer -- a send
   * not done within `sendTimeoutMs`, or more than `maxBufferedBytes` already waiting -- has its
   * socket terminated and the send resolves false: its caller then returns what it owed the usual
   * way (the mailbox, or ACA-Py for a reply).
   */
  send(id: string, data: Uint8Array, binary: boolean): Promise<boolean> {
    const tracked = this.sockets.get(id);
    if (!tracked || tracked.ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    if (tracked.ws.bufferedAmount > this.limits.maxBufferedBytes) {
      this.dropSlowConsumer(id, tracked, "buffer_full");
      return Promise.resolve(false);
    }
    tracked.lastActivity = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.dropSlowConsumer(id, tracked, "send_timeout");
        resolve(false);
      }, this.limits.sendTimeoutMs);
      tracked.ws.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { binary }, (error) => {
        // After a timeout, ws still calls back (with an error) once the terminated socket is destroyed.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(!error);
      });
    });
  }

  private dropSlowConsumer(id: string, tracked: TrackedSocket, reason: SlowConsumerReason): void {
    const bufferedBytes = tracked.ws.bufferedAmount;
    // Not close(): its close frame would queue behind what the wallet does not read.
    tracked.ws.terminate();
    this.onSlowConsumer?.(id, reason, bufferedBytes);
  }

  /** Closes a socket with a code and reason from elsewhere (made sendable first, see `sendableClose`). */
  close(id: string, code: number, reason: string): "closed" | "adjusted" | "no_socket" {
    const tracked = this.sockets.get(id);
    if (!tracked) return "no_socket";
    const frame = sendableClose(code, reason);
    tracked.ws.close(frame.code, frame.reason);
    return frame.adjusted ? "adjusted" : "closed";
  }

  /**
   * One tick of the heartbeat, which is spread over `heartbeatMs`: it visits
   * the share of the sockets due by `now`, so that each socket has its turn
   * once per `heartbeatMs`. Pinging 10,000 sockets (and reading their pongs)
   * in one burst stalls the event loop for tens of milliseconds, and every
   * push waiting behind it. A socket that missed the pong of its last ping is
   * terminated unless the bytes ahead of that ping are still reaching the
   * wallet (see `stillReceiving`), an idle one closed, the others pinged.
   */
  heartbeatTick(
    heartbeatMs: number,
    idleTimeoutMs: number,
    now = performance.now(),
  ): { terminated: number; idle: number; stillReceiving: number } {
    let terminated = 0;
    let idle = 0;
    let stillReceiving = 0;
    if (!this.round || (this.round.finished && now - this.round.startedAt >= heartbeatMs)) {
      this.round = { entries: this.sockets.entries(), startedAt: now, size: this.sockets.size, visited: 0 };
    }
    const round = this.round;
    const due = Math.min(round.size, Math.ceil((round.size * (now - round.startedAt + 1)) / heartbeatMs));
    while (!round.finished && round.visited < due) {
      const next = round.entries.next();
      if (next.done) {
        round.finished = true;
        break;
      }
      round.visited++;
      const [id, s] = next.value;
      if (s.readingPaused) {
        // The relay itself stopped reading it (its frames wait for Redis): its pong may sit unread
        // behind them. Judged again on its first turn after reading resumed.
        s.alive = true;
        continue;
      }
      if (!s.alive) {
        // Sockets come and go during a round, so two turns may fall closer than a round apart:
        // a pong gets at least half a round to arrive.
        if (now - s.pingedAt < heartbeatMs / 2) continue;
        if (mayStillBeReceiving(s, now)) {
          stillReceiving++;
          continue;
        }
        s.ws.terminate();
        this.sockets.delete(id);
        this.terminatedNotClosed.add(s);
        terminated++;
        continue;
      }
      if (idleTimeoutMs > 0 && now - s.lastActivity > idleTimeoutMs) {
        s.ws.close(CLOSE.normal, "idle timeout");
        idle++;
        continue;
      }
      s.alive = false;
      s.pingedAt = now;
      s.ws.ping();
      // The previous ping's pong came: only what was sent since can still hold this one back.
      const sent = s.tcp?.bytesWritten ?? 0;
      s.sentAheadOfPing = sent - s.sentAtPing;
      s.sentAtPing = sent;
    }
    if (round.visited >= round.size) round.finished = true;
    return { terminated, idle, stillReceiving };
  }

  closeAll(code: number, reason: string): void {
    for (const s of this.sockets.values()) s.ws.close(code, reason);
  }

  terminateAll(): void {
    for (const s of this.sockets.values()) {
      s.ws.terminate();
      this.terminatedNotClosed.add(s);
    }
    this.sockets.clear();
  }

  /**
   * Resolves true once every socket has closed and handed what it owed to `onGone` (a terminated
   * socket's 'close' comes an event-loop turn or more after `terminate`), false after `timeoutMs`.
   */
  async allGone(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.sockets.size > 0 || this.terminatedNotClosed.size > 0) {
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  /** Sockets still open or terminated without their 'close' yet (for shutdown's log line). */
  get notGone(): number {
    return this.sockets.size + this.terminatedNotClosed.size;
  }
}

/** Answers an upgrade it refuses and closes the connection, as ws's own `abortHandshake` does. */
function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  // Node takes the HTTP server's 'error' listener off the socket before emitting 'upgrade': without
  // this one, a peer that already reset the connection fails the write below with an unhandled
  // ECONNRESET, which ends the process.
  socket.on("error", () => socket.destroy());
  // Nothing more is read from it, and a peer that keeps it open would otherwise hold it for good.
  socket.once("finish", () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * WebSocket ingress: every text or binary frame is one DIDComm message,
 * written with this socket's id so that ACA-Py's replies come back down the
 * same socket. A frame that cannot be queued closes the socket with 1013.
 */
export class WebSocketIngress {
  private readonly wss: WebSocketServer;
  private heartbeat: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly ctx: RelayContext) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: ctx.config.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    ctx.sockets.onSlowConsumer = (id, reason, bufferedBytes) => {
      ctx.metrics.slowConsumers.inc({ reason });
      ctx.logger.warn(
        { event: "relay.ws_slow_consumer", socket: id, reason, bufferedBytes },
        reason === "send_timeout"
          ? `a send did not complete within ${ctx.config.wsSendTimeoutMs} ms; socket terminated`
          : `over ${ctx.config.wsMaxBufferedBytes} bytes waiting to be sent; socket terminated`,
      );
    };
  }

  start(): void {
    this.started = true;
    if (this.ctx.sockets.size > 0) this.ensureHeartbeat();
  }

  /**
   * The heartbeat ticks only while sockets are open: a relay without any (an HTTP-only
   * deployment, a quiet hour) would otherwise wake up for it ten times a second for nothing.
   */
  private ensureHeartbeat(): void {
    if (this.heartbeat || !this.started) return;
    const { wsHeartbeatMs, wsIdleTimeoutMs } = this.ctx.config;
    this.heartbeat = setInterval(
      () => {
        const { terminated, idle, stillReceiving } = this.ctx.sockets.heartbeatTick(wsHeartbeatMs, wsIdleTimeoutMs);
        if (terminated + idle > 0) {
          this.ctx.logger.info({ event: "relay.ws_swept", terminated, idle }, "closed dead or idle sockets");
        }
        if (stillReceiving > 0) {
          this.ctx.metrics.latePongsStillReceiving.inc(stillReceiving);
          this.ctx.logger.debug(
            { event: "relay.ws_pong_late_still_receiving", sockets: stillReceiving },
            "pong late behind a transfer still reaching the wallet; socket kept",
          );
        }
        if (this.ctx.sockets.size === 0) {
          clearInterval(this.heartbeat);
          this.heartbeat = undefined;
        }
      },
      Math.max(10, Math.floor(wsHeartbeatMs / HEARTBEAT_TICKS_PER_ROUND)),
    );
    this.heartbeat.unref();
  }

  /** The `upgrade` handler of an HTTP server. */
  readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const origin = req.headers.origin;
    const allowed = this.ctx.config.allowedOrigins;
    if (this.ctx.draining) {
      rejectUpgrade(socket, 503, "Service Unavailable");
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
    this.ensureHeartbeat();
    this.ctx.logger.debug({ event: "relay.ws_open", socket: id, remote }, "WebSocket opened");
    ws.on("pong", (data: Buffer) => {
      tracked.alive = true;
      if (data.length > 0) this.ctx.onPong?.(id, tracked, Number(data.toString()));
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      tracked.lastActivity = performance.now();
      tracked.alive = true;
      tracked.framesWaiting.push({ body: toBuffer(data), isBinary });
      this.writeFrames(id, tracked, remote);
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
      this.ctx.sockets.gone(id, tracked);
      this.ctx.logger.debug({ event: "relay.ws_close", socket: id, code }, "WebSocket closed");
    });
  }

  /**
   * Starts the Redis writes of a socket's waiting frames, at most `wsMaxFramesInFlight` at once.
   * Each write holds its frame (and its encoded copy) until Redis answers, which with Redis slow
   * can take up to the command timeout: at the cap, reading from the socket pauses, so a fast
   * client meets TCP backpressure instead of growing the relay's memory without bound.
   */
  private writeFrames(id: string, tracked: TrackedSocket, remote: string): void {
    const { ctx } = this;
    const cap = ctx.config.wsMaxFramesInFlight;
    while (tracked.framesInFlight < cap) {
      const frame = tracked.framesWaiting.shift();
      if (!frame) break;
      tracked.framesInFlight++;
      ctx.sockets.framesInFlight++;
      void this.onFrame(id, tracked.ws, frame.body, frame.isBinary, remote, tracked.epoch).finally(() => {
        tracked.framesInFlight--;
        ctx.sockets.framesInFlight--;
        this.writeFrames(id, tracked, remote);
      });
    }
    if (tracked.framesInFlight >= cap) {
      if (tracked.readingPaused) return;
      tracked.readingPaused = true;
      tracked.ws.pause();
      ctx.metrics.readPauses.inc();
      ctx.logger.debug(
        { event: "relay.ws_read_paused", socket: id, framesInFlight: tracked.framesInFlight },
        "frames in flight at the cap; reading from the socket paused",
      );
    } else if (tracked.readingPaused && tracked.framesWaiting.length === 0) {
      tracked.readingPaused = false;
      tracked.ws.resume();
    }
  }

  private async onFrame(
    id: string,
    ws: WebSocket,
    body: Buffer,
    isBinary: boolean,
    remote: string,
    epoch: bigint,
  ): Promise<void> {
    const ctx = this.ctx;
    if (ctx.draining) {
      ws.close(CLOSE.goingAway, "relay shutting down");
      ctx.metrics.requests.inc({ transport: "ws", outcome: "shutting_down" });
      return;
    }
    const inspection = inspectEnvelope(body);
    if (!inspection.ok) {
      ctx.logger.warn(
        { event: "relay.rejected", transport: "ws", reason: inspection.reason, bytes: body.length, socket: id, remote },
        `rejected frame: ${inspection.detail}; closing with 1003`,
      );
      ctx.metrics.requests.inc({ transport: "ws", outcome: "bad_request" });
      ws.close(CLOSE.unsupportedData, inspection.reason);
      return;
    }
    const mid = newMessageId();
    const now = Date.now();
    const message = agentMessage({
      mid,
      kind: InboundKind.AGENT_MESSAGE,
      recipientKey: inspection.routingKey,
      // ACA-Py's ws transport hands text frames to ACA-Py as str, binary ones as bytes.
      contentType: isBinary ? "application/didcomm-envelope-enc" : "application/json",
      body,
      receivedAtMs: BigInt(now),
      expiresAtMs: ctx.config.inboundTtlMs > 0 ? BigInt(now + ctx.config.inboundTtlMs) : 0n,
      transport: Transport.WEBSOCKET,
      relayId: ctx.relayId,
      socketId: id,
      sessionEpoch: epoch,
      remoteAddress: remote,
    });
    try {
      const written = await ctx.writer.write(message, bodyDigest(body));
      ctx.metrics.enqueueSeconds.observe({ transport: "ws" }, written.seconds);
      if (written.outcome.status === "busy") {
        ctx.logger.warn(
          { event: "relay.partition_full", transport: "ws", mid, socket: id, partition: written.partition },
          "inbound partition at its high-water mark; closing with 1013",
        );
        ctx.metrics.requests.inc({ transport: "ws", outcome: "busy" });
        ws.close(CLOSE.tryAgainLater, "busy, try again later");
        return;
      }
      ctx.metrics.requests.inc({
        transport: "ws",
        outcome: written.outcome.status === "duplicate" ? "duplicate" : "queued",
      });
    } catch (error) {
      ctx.logger.error(
        { event: "relay.redis_unavailable", transport: "ws", mid, socket: id, err: (error as Error).message },
        "could not write the frame to Redis; closing with 1013",
      );
      ctx.metrics.requests.inc({ transport: "ws", outcome: "redis_unavailable" });
      ws.close(CLOSE.tryAgainLater, "try again later");
    }
  }

  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const { sockets, logger } = this.ctx;
    sockets.closeAll(CLOSE.goingAway, "relay shutting down");
    if (!(await sockets.allGone(CLOSE_HANDSHAKE_WAIT_MS))) {
      sockets.terminateAll();
      // Each socket's 'close' starts returning its unconfirmed pushes to the mailbox (WalletPushes'
      // onGone): the caller settles that work next, so it must have started before the Redis clients close.
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
