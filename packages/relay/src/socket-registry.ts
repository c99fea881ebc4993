import type { Socket } from "node:net";
import type { WalletMessage } from "@acapy-bridge/protocol";
import { SendConfirmations } from "@acapy-bridge/websocket-confirmation";
import { WebSocket } from "ws";
import { sendableClose } from "./close-codes.js";
import { HeartbeatRounds, type HeartbeatSubject, type HeartbeatTickResult } from "./heartbeat-round.js";
import { DEFAULT_RELAY_CONFIG } from "./relay-options.js";
import { nextSessionEpoch } from "./session-epoch.js";

/** A wallet message written to a socket and not yet confirmed by a pong (docs/mediator.md). */
export interface UnconfirmedPush {
  entryId: string;
  message: WalletMessage;
  writtenAt: number;
}

export interface TrackedSocket extends HeartbeatSubject {
  ws: WebSocket;
  remote: string;
  /** Session epoch: ms * 1000 + counter at open, monotonic for this relay. */
  epoch: bigint;
  /** Pushes written and not yet confirmed, oldest first, and the pings that confirm them. */
  confirmations: SendConfirmations<UnconfirmedPush>;
  /** Wallet keys this socket received pushes for (their routes are cleared when it closes). */
  walletKeys: Set<string>;
  /** Frames of this socket being written to Redis now. */
  framesInFlight: number;
  /** Frames received while `framesInFlight` was at its cap (ws had parsed them before reading paused). */
  framesWaiting: { body: Buffer; isBinary: boolean }[];
}

/** When a socket counts as a slow consumer (see `SocketRegistry.send`). */
export interface SendLimits {
  sendTimeoutMs: number;
  maxBufferedBytes: number;
}

export type SlowConsumerReason = "send_timeout" | "buffer_full";

/** Who hears of a socket's end, of its slow consumption and of its confirmed pushes. */
export interface SocketListeners {
  /** Called once per socket when it is gone (closed or terminated), with what it still owed. */
  onGone?: (id: string, socket: TrackedSocket) => void;
  /** Called when `send` terminated a socket as a slow consumer (its `onGone` follows with the close). */
  onSlowConsumer?: (id: string, reason: SlowConsumerReason, bufferedBytes: number) => void;
  /** The wallet's pong confirmed these pushes, oldest first. */
  onPushesConfirmed?: (socket: TrackedSocket, pushes: UnconfirmedPush[]) => void;
}

/** The open sockets of this relay, by socket id (the id travels with every frame through Redis). */
export class SocketRegistry {
  private readonly sockets = new Map<string, TrackedSocket>();
  /**
   * Sockets terminated and already out of `sockets` whose 'close' has not come yet: their `onGone`
   * (returning what they owed) is still to run, and shutdown must not close Redis before it.
   */
  private readonly terminatedNotClosed = new Set<TrackedSocket>();
  private readonly heartbeat = new HeartbeatRounds(this.sockets, (id, socket) => {
    this.sockets.delete(id);
    this.terminatedNotClosed.add(socket);
  });
  onGone: SocketListeners["onGone"];
  onSlowConsumer: SocketListeners["onSlowConsumer"];
  private readonly onPushesConfirmed: SocketListeners["onPushesConfirmed"];
  /** Frames of all sockets (open or closed since) being written to Redis now: each holds its body. */
  framesInFlight = 0;

  constructor(
    private readonly limits: SendLimits = {
      sendTimeoutMs: DEFAULT_RELAY_CONFIG.wsSendTimeoutMs,
      maxBufferedBytes: DEFAULT_RELAY_CONFIG.wsMaxBufferedBytes,
    },
    listeners: SocketListeners = {},
  ) {
    this.onGone = listeners.onGone;
    this.onSlowConsumer = listeners.onSlowConsumer;
    this.onPushesConfirmed = listeners.onPushesConfirmed;
  }

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
      confirmations: new SendConfirmations(ws, (pushes) => this.onPushesConfirmed?.(tracked, pushes)),
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

  /** One tick of the heartbeat (see `HeartbeatRounds`): terminated sockets leave the registry. */
  heartbeatTick(heartbeatMs: number, idleTimeoutMs: number, now = performance.now()): HeartbeatTickResult {
    return this.heartbeat.tick(heartbeatMs, idleTimeoutMs, now);
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
