import type { PartitionScripts } from "./partition-scripts.js";

export interface RetrySchedulerOptions {
  scripts: PartitionScripts;
  pollMs: number;
  /** A parked recipient is due: drain its park list (in its lane). */
  onDue: (recipient: string) => void;
  onError: (error: unknown) => void;
}

/**
 * Finds parked recipients whose retry is due (the partition's retry zset,
 * score = due time in ms): every `pollMs`, and at the earliest due time this
 * process scheduled itself, so short backoffs are not rounded up to the poll.
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
    this.pollTimer = setInterval(() => void this.poll(), this.o.pollMs);
    void this.poll();
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
    }
  }

  stop(): void {
    this.running = false;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
  }
}
