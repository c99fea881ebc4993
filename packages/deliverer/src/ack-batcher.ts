import type { RedisClient } from "@acapy-bridge/protocol";
import { FencedError, type PartitionScripts } from "./partition-scripts.js";

/** Entry ids per fenced script call (keeps a single script run, and its reply, short). */
const MAX_IDS_PER_CALL = 500;
/** Backoff of a partition whose call failed (Redis away, a timeout): first and longest delay. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;
/** Acknowledgements waiting that make a flush go at the end of this event-loop turn instead of after the linger. */
const FLUSH_NOW_AT = 64;

/** Why a waiting acknowledgement was given up: the batcher closed before Redis took it. */
export class AckAbandonedError extends Error {
  override name = "AckAbandonedError";
}

interface Waiting {
  id: string;
  done: (error?: unknown) => void;
}

/**
 * Partitions whose acknowledgements travel together: every partition on a
 * standalone Redis (one server, one connection), each partition on its own on
 * a Cluster (so that a slow node delays only its own partitions).
 */
interface AckGroup {
  /** Acknowledgements waiting, by partition, oldest first. */
  waiting: Map<PartitionScripts, Waiting[]>;
  /** Calls on their way to Redis, not yet answered (at most one per partition). */
  unanswered: number;
}

/**
 * Acknowledges delivered jobs with few Redis calls (group commit): while a
 * group's calls are on their way, its next acknowledgements gather, and leave
 * together once those have been answered; with none on the way they leave
 * after `lingerMs`, or at the end of the event-loop turn once `FLUSH_NOW_AT`
 * are waiting. Each call is still one fenced script over one partition's
 * slot. Under load a call carries many acknowledgements; at a trickle the
 * linger gathers a few per call, where each call would otherwise cost a socket
 * write, a wake-up for its answer and a script run for one entry. A later
 * acknowledgement holds nothing up: the next job does not wait for it, and a
 * crash meanwhile only delivers the entry again.
 *
 * Acknowledgements leave in the order they were asked for, per partition, and
 * a call that fails for any reason but a lost lease is not given up: its ids
 * go back to the head of the partition's queue and leave again, with whatever
 * gathered behind them, after a backoff. So a recipient's later entry is never
 * acknowledged while an earlier one is not, and a redelivery after a crash
 * starts at the earlier one and keeps the order.
 *
 * On a standalone Redis the calls of a round are written in one socket write
 * (the socket is corked meanwhile): on a loopback or LAN connection the write
 * costs more than the rest of the call. Not an ioredis pipeline: a pipeline
 * sends a script's whole source (EVAL) every time, single calls its hash.
 */
export class AckBatcher {
  private readonly standalone: boolean;
  private readonly shared: AckGroup = { waiting: new Map(), unanswered: 0 };
  private readonly byPartition = new Map<PartitionScripts, AckGroup>();
  /** Partitions waiting out a backoff after a failed call, with the timer that ends it. */
  private readonly heldBack = new Map<PartitionScripts, NodeJS.Timeout>();
  /** Failed calls in a row, by partition (the backoff doubles with each). */
  private readonly failures = new Map<PartitionScripts, number>();
  /** Groups with acknowledgements waiting and no call on the way. */
  private ready = new Set<AckGroup>();
  private scheduled = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  /** Acknowledgements waiting in every group, not yet sent. */
  private waitingTotal = 0;
  private closed = false;

  /** `onRetry` hears of every failed call that will be sent again (for a log line). */
  constructor(
    private readonly client: RedisClient,
    private readonly onRetry: (error: unknown, partition: PartitionScripts, delayMs: number) => void = () => {},
    private readonly lingerMs = 0,
  ) {
    this.standalone = !(client as { isCluster?: boolean }).isCluster;
  }

  /**
   * Resolves once the entry is acknowledged; rejects with FencedError when the
   * lease is gone, with AckAbandonedError when the batcher was closed first.
   */
  ack(scripts: PartitionScripts, id: string): Promise<void> {
    if (this.closed) return Promise.reject(new AckAbandonedError("acknowledgements closed"));
    return new Promise((resolve, reject) => {
      const group = this.groupOf(scripts);
      let waiting = group.waiting.get(scripts);
      if (!waiting) {
        waiting = [];
        group.waiting.set(scripts, waiting);
      }
      waiting.push({ id, done: (error) => (error ? reject(error) : resolve()) });
      this.waitingTotal++;
      if (group.unanswered === 0) this.markReady(group);
    });
  }

  /** Gives up what still waits (AckAbandonedError): on shutdown, after the workers stopped. */
  close(): void {
    this.closed = true;
    clearTimeout(this.lingerTimer);
    for (const timer of this.heldBack.values()) clearTimeout(timer);
    this.heldBack.clear();
    const abandoned = new AckAbandonedError("the deliverer stopped before Redis took the acknowledgement");
    for (const group of [this.shared, ...this.byPartition.values()]) {
      for (const waiting of group.waiting.values()) for (const e of waiting) e.done(abandoned);
      group.waiting.clear();
      this.waitingTotal = 0;
    }
  }

  private groupOf(scripts: PartitionScripts): AckGroup {
    if (this.standalone) return this.shared;
    let group = this.byPartition.get(scripts);
    if (!group) {
      group = { waiting: new Map(), unanswered: 0 };
      this.byPartition.set(scripts, group);
    }
    return group;
  }

  /**
   * Sends what is waiting at the end of this event-loop turn instead of after the linger: a
   * partition worker is about to change a recipient's entries directly (park, dead-letter) and
   * needs the recipient's earlier acknowledgement in Redis first.
   */
  hurry(): void {
    if (!this.lingerTimer) return; // nothing lingering: already leaving, or waiting for an answer
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    setImmediate(() => this.flush());
  }

  /** `now`: leave at the end of this turn, not after the linger. */
  private markReady(group: AckGroup, now = false): void {
    this.ready.add(group);
    const soon = now || this.lingerMs === 0 || this.waitingTotal >= FLUSH_NOW_AT;
    if (this.scheduled && !(soon && this.lingerTimer)) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.scheduled = true;
    if (soon) setImmediate(() => this.flush());
    else this.lingerTimer = setTimeout(() => this.flush(), this.lingerMs);
  }

  private flush(): void {
    if (!this.scheduled) return; // replaced by an earlier flush
    this.scheduled = false;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    const ready = this.ready;
    this.ready = new Set();
    const socket = this.standaloneSocket();
    socket?.cork();
    try {
      for (const group of ready) this.send(group);
    } finally {
      socket?.uncork();
    }
  }

  private send(group: AckGroup): void {
    for (const [scripts, waiting] of group.waiting) {
      if (this.heldBack.has(scripts)) continue; // its timer marks the group ready again
      const entries = waiting.splice(0, MAX_IDS_PER_CALL);
      this.waitingTotal -= entries.length;
      if (waiting.length === 0) group.waiting.delete(scripts);
      group.unanswered++;
      scripts.ack(entries.map((e) => e.id)).then(
        () => this.answered(group, scripts, entries),
        (error) => this.answered(group, scripts, entries, error),
      );
    }
  }

  private answered(group: AckGroup, scripts: PartitionScripts, entries: Waiting[], error?: unknown): void {
    group.unanswered--;
    if (error && !(error instanceof FencedError) && !this.closed) {
      // Back to the head, ahead of what gathered meanwhile: the order of acknowledgements holds.
      group.waiting.set(scripts, entries.concat(group.waiting.get(scripts) ?? []));
      this.waitingTotal += entries.length;
      this.backOff(group, scripts, error);
    } else {
      this.failures.delete(scripts);
      for (const e of entries) e.done(error);
    }
    if (group.unanswered > 0) return;
    const sendable = [...group.waiting.keys()].some((s) => !this.heldBack.has(s));
    // What gathered while the call was on its way has waited long enough.
    if (sendable) this.markReady(group, true);
    // Forgotten when idle, so that partitions given up (leases moved on) do not linger.
    else if (group !== this.shared && group.waiting.size === 0) this.byPartition.delete(scripts);
  }

  private backOff(group: AckGroup, scripts: PartitionScripts, error: unknown): void {
    const failures = (this.failures.get(scripts) ?? 0) + 1;
    this.failures.set(scripts, failures);
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** (failures - 1));
    this.onRetry(error, scripts, delayMs);
    this.heldBack.set(
      scripts,
      setTimeout(() => {
        this.heldBack.delete(scripts);
        if (group.unanswered === 0) this.markReady(group);
      }, delayMs),
    );
  }

  /** The standalone client's socket while it is connected; undefined on a Cluster. */
  private standaloneSocket(): { cork(): void; uncork(): void } | undefined {
    const client = this.client as { status?: string; stream?: { cork(): void; uncork(): void } };
    return this.standalone && client.status === "ready" ? client.stream : undefined;
  }
}
