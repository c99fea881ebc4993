import type { DirectReply } from "@acapy-bridge/protocol";

export type ReplyOutcome = { kind: "reply"; reply: DirectReply } | { kind: "timeout" } | { kind: "cancelled" };

/** What became of a reply read from the inbox. */
export type DeliverResult =
  /** A waiting request took it. */
  | "delivered"
  /** Its request was already answered (a redelivered duplicate): drop it. */
  | "duplicate"
  /** Nobody waits for it (timed out, client gone, unknown): it must go back to ACA-Py. */
  | "orphan";

interface Waiter {
  settle: (outcome: ReplyOutcome) => void;
  timer: NodeJS.Timeout;
}

/** Remembers recently answered request ids, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value as string;
      this.ids.delete(oldest);
    }
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
}

/** HTTP requests waiting for ACA-Py's direct response, by request id. */
export class PendingReplies {
  private readonly waiting = new Map<string, Waiter>();
  private readonly answered = new RecentIds(50_000);
  private drained: (() => void) | undefined;

  get size(): number {
    return this.waiting.size;
  }

  /** Waits for the reply to `requestId`; settles with "timeout" after `timeoutMs`. */
  wait(requestId: string, timeoutMs: number): Promise<ReplyOutcome> {
    return new Promise<ReplyOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, { kind: "timeout" }), timeoutMs);
      this.waiting.set(requestId, { settle: resolve, timer });
    });
  }

  /** The client went away: stop waiting (a reply arriving later is an orphan). */
  cancel(requestId: string): void {
    this.settle(requestId, { kind: "cancelled" });
  }

  deliver(reply: DirectReply): DeliverResult {
    if (this.waiting.has(reply.requestId)) {
      this.answered.add(reply.requestId);
      this.settle(reply.requestId, { kind: "reply", reply });
      return "delivered";
    }
    return this.answered.has(reply.requestId) ? "duplicate" : "orphan";
  }

  /** Resolves once no request waits any more (each ends by reply, timeout or cancel). */
  async drain(): Promise<void> {
    if (this.waiting.size === 0) return;
    await new Promise<void>((resolve) => {
      this.drained = resolve;
    });
  }

  private settle(requestId: string, outcome: ReplyOutcome): void {
    const waiter = this.waiting.get(requestId);
    if (!waiter) return;
    this.waiting.delete(requestId);
    clearTimeout(waiter.timer);
    waiter.settle(outcome);
    if (this.waiting.size === 0 && this.drained) {
      const done = this.drained;
      this.drained = undefined;
      done();
    }
  }
}
