import type { RedisClient } from "./connection.js";
import { ackEntries } from "./streams.js";

/** Entries that make the waiting acknowledgements leave at once instead of after the linger. */
const FLUSH_NOW_AT = 100;

/**
 * Acknowledges handled entries of one stream a little later, many per call:
 * an entry's acknowledgement waits up to `lingerMs` for others to share its
 * Redis call. At a trickle each call would otherwise cost a socket write, a
 * wake-up for its answer and a script run for a single entry. Nothing is lost
 * by waiting: an entry not yet acknowledged when its reader restarts is only
 * handled again. A failed call keeps its ids for the next one.
 */
export class LingeringAcks {
  /** Waiting, in the order handled (a Set: `holds` is asked for every entry read). */
  private ids = new Set<string>();
  /** Ids of the call on its way. */
  private inCall = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  /** The last call failed: what waits leaves with the retry, not at once (no call per batch during an outage). */
  private failing = false;

  constructor(
    private readonly client: RedisClient,
    private readonly stream: string,
    private readonly group: string,
    private readonly lingerMs: number,
    private readonly onError: (error: Error, waiting: number) => void,
  ) {}

  get waiting(): number {
    return this.ids.size;
  }

  /** True while the entry is handled and its acknowledgement waits or is on its way: it must not be handled again. */
  holds(id: string): boolean {
    return this.inCall.has(id) || this.ids.has(id);
  }

  add(ids: readonly string[]): void {
    if (ids.length === 0) return;
    for (const id of ids) this.ids.add(id);
    if (!this.failing && (this.ids.size >= FLUSH_NOW_AT || this.lingerMs === 0)) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.lingerMs);
    }
  }

  /** Sends what waits (after a call already on its way); resolves when Redis has answered. */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
    if (this.ids.size === 0) return;
    const batch = this.ids;
    this.ids = new Set();
    this.inCall = batch;
    this.sending = ackEntries(this.client, this.stream, this.group, [...batch]).then(
      () => {
        this.failing = false;
        this.inCall = new Set();
      },
      (error: Error) => {
        this.failing = true;
        for (const id of this.ids) batch.add(id); // the failed ones first, then what gathered meanwhile
        this.ids = batch;
        this.inCall = new Set();
        this.onError(error, this.ids.size);
        this.timer ??= setTimeout(
          () => {
            this.timer = undefined;
            void this.flush();
          },
          Math.max(this.lingerMs, 500),
        );
      },
    );
    try {
      await this.sending;
    } finally {
      this.sending = undefined;
    }
  }

  /** Sends what waits once more and stops the timer; what still fails stays pending in Redis. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
