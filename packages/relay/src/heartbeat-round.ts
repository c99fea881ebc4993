import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import { CLOSE } from "./close-codes.js";
import { mayStillBeReceiving } from "./late-pong-grace.js";

/** What the heartbeat reads and writes of an open socket. */
export interface HeartbeatSubject {
  ws: Pick<WebSocket, "ping" | "terminate" | "close">;
  /** A frame or a pong came since the last heartbeat ping. */
  alive: boolean;
  /** When the last heartbeat ping went out (performance.now(): the heartbeat ignores wall-clock steps). */
  pingedAt: number;
  /** Last frame in or out (performance.now()). */
  lastActivity: number;
  /** Reading from the socket is paused until its frames in flight drop below the cap. */
  readingPaused: boolean;
  /** The TCP connection under the WebSocket (absent in tests with stand-ins): bytes sent to the wallet. */
  tcp: Socket | undefined;
  /** Bytes of the stream handed to Node up to the last heartbeat ping. */
  sentAtPing: number;
  /** Bytes sent between the ping before and the last ping: all that can still be ahead of the last ping. */
  sentAheadOfPing: number;
}

export interface HeartbeatTickResult {
  terminated: number;
  idle: number;
  stillReceiving: number;
}

interface Round<S> {
  entries: MapIterator<[string, S]>;
  startedAt: number;
  /** Sockets open when the round started: the pace is set by them. */
  size: number;
  visited: number;
  finished?: boolean;
}

/**
 * The heartbeat's rounds over the open sockets, each spread over `heartbeatMs`: a tick visits the
 * share of the sockets due by `now`, so that each socket has its turn once per `heartbeatMs`.
 * Pinging 10,000 sockets (and reading their pongs) in one burst stalls the event loop for tens of
 * milliseconds, and every push waiting behind it. A socket that missed the pong of its last ping is
 * terminated unless the bytes ahead of that ping are still reaching the wallet (see
 * `mayStillBeReceiving`), an idle one closed, the others pinged.
 */
export class HeartbeatRounds<S extends HeartbeatSubject> {
  /** The round under way (a live iterator: sockets closed meanwhile are skipped; those opened wait for the next round). */
  private round: Round<S> | undefined;

  /** `terminated` takes a socket the tick terminated out of `sockets`. */
  constructor(
    private readonly sockets: Map<string, S>,
    private readonly terminated: (id: string, socket: S) => void,
  ) {}

  tick(heartbeatMs: number, idleTimeoutMs: number, now: number): HeartbeatTickResult {
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
        this.terminated(id, s);
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
}
