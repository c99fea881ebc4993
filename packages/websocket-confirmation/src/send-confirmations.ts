import { WebSocket } from "ws";

/** A frame sent and not yet confirmed, with the ping whose pong confirms it (0 until that ping is sent). */
interface Awaiting<T> {
  item: T;
  ping: number;
}

/**
 * Which frames sent on one WebSocket the peer has read (docs/guarantees.md). That a frame was
 * written proves nothing: it may sit in the kernel's buffer of a socket whose peer vanished without
 * FIN or RST. So each burst of frames is followed by a ping carrying a sequence number; the peer's
 * pong comes back on the same stream after it read every frame sent before that ping. One ping per
 * turn of the event loop confirms every frame sent in that turn.
 *
 * Only the mechanism lives here. What a confirmation means (a delivery succeeded, an inbox entry
 * may be acknowledged), how long to wait for it and what to do with frames never confirmed (retry
 * them, return them to a mailbox) is each caller's policy: `onConfirmed`, `forget` and
 * `takeUnconfirmed`. Pongs are handed in by the caller (`pongReceived`), whose socket may have
 * other uses for them (a heartbeat).
 */
export class SendConfirmations<T> {
  /** In the order the frames were sent; those with ping 0 are always at the end. */
  private readonly awaiting: Awaiting<T>[] = [];
  /** The last confirmation ping sent (its payload is this number in decimal); 0 = none. */
  private pingSeq = 0;
  private pingScheduled = false;

  constructor(
    private readonly ws: Pick<WebSocket, "ping" | "readyState">,
    private readonly onConfirmed: (items: T[]) => void,
  ) {}

  /** Frames sent and not confirmed yet. */
  get size(): number {
    return this.awaiting.length;
  }

  /** The frame for `item` is being sent: it waits for the next confirmation ping's pong. */
  expect(item: T): void {
    this.awaiting.push({ item, ping: 0 });
  }

  /**
   * Schedules the ping that follows every frame expected so far (one per turn of the event loop).
   * On a socket no longer open no ping goes out: its frames stay unconfirmed for the caller to take back.
   */
  followWithPing(): void {
    if (this.pingScheduled) return;
    this.pingScheduled = true;
    setImmediate(() => {
      this.pingScheduled = false;
      if (this.ws.readyState !== WebSocket.OPEN) return;
      this.pingSeq += 1;
      const seq = this.pingSeq;
      for (let i = this.awaiting.length - 1; i >= 0; i--) {
        const awaiting = this.awaiting[i] as Awaiting<T>;
        if (awaiting.ping !== 0) break;
        awaiting.ping = seq;
      }
      this.ws.ping(String(seq));
    });
  }

  /** Stops waiting for `item` (its frame was not written, or its caller gave up); false if it was not awaited. */
  forget(item: T): boolean {
    const at = this.awaiting.findIndex((awaiting) => awaiting.item === item);
    if (at < 0) return false;
    this.awaiting.splice(at, 1);
    return true;
  }

  /** Everything still unconfirmed, oldest first, no longer awaited (the socket is gone). */
  takeUnconfirmed(): T[] {
    return this.awaiting.splice(0).map((awaiting) => awaiting.item);
  }

  /** A pong: confirms every frame sent before the ping it answers, and hands them to `onConfirmed`. */
  pongReceived(payload: Buffer): void {
    const seq = Number(payload.toString("latin1"));
    // A pong the peer sent unasked, or one answering a heartbeat ping, carries no number of ours.
    if (payload.length === 0 || !Number.isInteger(seq) || seq < 1 || seq > this.pingSeq) return;
    let confirmed = 0;
    while (confirmed < this.awaiting.length) {
      const ping = (this.awaiting[confirmed] as Awaiting<T>).ping;
      if (ping === 0 || ping > seq) break;
      confirmed++;
    }
    if (confirmed === 0) return;
    this.onConfirmed(this.awaiting.splice(0, confirmed).map((awaiting) => awaiting.item));
  }
}
