import type { PartitionScripts } from "./partition-scripts.js";

export interface RetrySchedulerOptions {
  scripts: PartitionScripts;
  pollMs: number;
  /**
   * True while the partition has parked recipients. Without any, the zset is
   * looked at only every `IDLE_POLL_MS` (a backstop for a park whose reply was
   * lost), not every `pollMs`: an idle deployment's many partitions would
   * otherwise cost Redis a query each every `pollMs`.
   */
  hasParked: () => boolean;
  /** A parked recipient is due: drain its park list (in its lane). */
  onDue: (recipient: string) => void;
  onError: (error: unknown) => void;
}

/** How often the retry zset of a partition without parked recipients is looked at anyway. */
const IDLE_POLL_MS = 5_000;

/**
 * Finds parked recipients whose retry is due (the partition's retry zset,
 * score = due time in ms): every `pollMs` while any are parked, and at the
 * earliest due time this process scheduled itself, so short backoffs are not
 * rounded up to the poll.
 */
export class RetryScheduler {
  private pollTimer: NodeJS.Timeout | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAtMs = Number.POSITIVE_INFINITY;
  private running = false;
  private polling = false;

  constructor(private readonly o: RetrySchedulerOptions) {}

  start(): void {
    this.running = true;
    void this.poll();
  }

  /** The next look: every `pollMs` while recipients are parked, every `IDLE_POLL_MS` otherwise (one timer, not one per tick). */
  private scheduleNextPoll(): void {
    if (!this.running) return;
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), this.o.hasParked() ? this.o.pollMs : IDLE_POLL_MS);
  }

  /** Look again at `dueMs` (if earlier than already planned). */
  wakeAt(dueMs: number): void {
    if (!this.running || dueMs >= this.wakeAtMs) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAtMs = dueMs;
    this.wakeTimer = setTimeout(
      () => {
        this.wakeAtMs = Number.POSITIVE_INFINITY;
        this.wakeTimer = undefined;
        void this.poll();
      },
      Math.max(0, dueMs - Date.now()),
    );
  }

  private async poll(): Promise<void> {
    if (!this.running || this.polling) return;
    this.polling = true;
    try {
      const due = await this.o.scripts.dueRecipients(Date.now(), 200);
      for (const recipient of due) this.o.onDue(recipient);
    } catch (error) {
      this.o.onError(error);
    } finally {
      this.polling = false;
      this.scheduleNextPoll();
    }
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.pollTimer);
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.wakeAtMs = Number.POSITIVE_INFINITY;
  }
}
