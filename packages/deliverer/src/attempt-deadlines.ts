/** A registered attempt's deadline. */
export interface Deadline {
  /** Called by the owner when the attempt ended; the deadline then does nothing. */
  settle(): void;
}

const NOTHING = () => {};

class Entry implements Deadline {
  constructor(
    private readonly owner: AttemptDeadlines,
    readonly atMs: number,
    public expire: () => void,
  ) {}

  get open(): boolean {
    return this.expire !== NOTHING;
  }

  settle(): void {
    if (this.expire === NOTHING) return;
    this.expire = NOTHING; // drops what the callback holds (the request, its body) at once
    this.owner.settled();
  }
}

/**
 * Whole-attempt timeouts for many concurrent attempts that share one
 * duration, without a timer or an AbortSignal per attempt (each costs more
 * than the rest of a keep-alive POST to a fast endpoint): deadlines are
 * queued in the order they were registered, which is also their order in
 * time, and one coarse timer expires the overdue ones at the head.
 */
export class AttemptDeadlines {
  private queue: Entry[] = [];
  private head = 0;
  private openCount = 0;
  private sweeping = false;
  private readonly timer: NodeJS.Timeout;

  /** `resolutionMs`: how late after its deadline an attempt may be expired. */
  constructor(
    readonly durationMs: number,
    resolutionMs = Math.max(5, Math.min(100, Math.floor(durationMs / 20))),
  ) {
    this.timer = setInterval(() => this.expireOverdue(performance.now()), resolutionMs);
    this.timer.unref();
  }

  /** Registers an attempt that starts now; `expire` is called if it is not settled within `durationMs`. */
  start(expire: () => void): Deadline {
    const entry = new Entry(this, performance.now() + this.durationMs, expire);
    this.queue.push(entry);
    this.openCount++;
    return entry;
  }

  /** Attempts registered and neither settled nor expired. */
  get pending(): number {
    return this.openCount;
  }

  /** @internal An entry was settled by its owner. */
  settled(): void {
    this.openCount--;
    // Settled entries leave at the head; behind a long-open head they pile up, so drop them now and then.
    const queued = this.queue.length - this.head;
    if (!this.sweeping && queued > 4096 && this.openCount * 2 < queued) {
      this.queue = this.queue.slice(this.head).filter((e) => e.open);
      this.head = 0;
    }
  }

  expireOverdue(now: number): void {
    const queue = this.queue;
    this.sweeping = true;
    try {
      while (this.head < queue.length) {
        const entry = queue[this.head] as Entry;
        if (entry.open && entry.atMs > now) break;
        this.head++;
        if (entry.open) {
          const expire = entry.expire;
          entry.settle();
          expire();
        }
      }
    } finally {
      this.sweeping = false;
    }
    if (this.head === queue.length) {
      this.queue = [];
      this.head = 0;
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
