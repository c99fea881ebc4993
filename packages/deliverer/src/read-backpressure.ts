import type { Logger } from "@acapy-bridge/operability";
import type { DelivererMetrics } from "./deliverer-metrics.js";
import type { RecipientLanes } from "./recipient-lanes.js";

const FULL_BUFFER_WARNING_INTERVAL_MS = 60_000;

export interface ReadBackpressureOptions {
  partition: number;
  /** Entries held at most before reading waits (DelivererConfig.partitionBuffer). */
  buffer: number;
  /** The partition's lanes: a full buffer names the busiest. */
  lanes: RecipientLanes;
  logger: Logger;
  metrics: DelivererMetrics;
}

/**
 * The entries a partition holds in memory (queued in a lane or in flight, until acknowledged or
 * settled), and the pause on reading while `buffer` of them are held.
 */
export class ReadBackpressure {
  private readonly held = new Set<string>();
  private roomWaiters: (() => void)[] = [];
  private stopped = false;
  /** When reading last paused on a full buffer with a warning (one warning a minute per partition). */
  private lastFullBufferWarningAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly o: ReadBackpressureOptions) {}

  get size(): number {
    return this.held.size;
  }

  has(id: string): boolean {
    return this.held.has(id);
  }

  hold(id: string): void {
    this.held.add(id);
  }

  release(id: string): void {
    this.held.delete(id);
    if (this.held.size < this.o.buffer && this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when fewer than `buffer` entries are held (backpressure on reading). */
  room(): Promise<void> {
    if (this.held.size < this.o.buffer || this.stopped) return Promise.resolve();
    this.warnFullBuffer();
    const pausedAt = performance.now();
    return new Promise((resolve) =>
      this.roomWaiters.push(() => {
        const seconds = (performance.now() - pausedAt) / 1000;
        this.o.metrics.readingPausedSeconds.inc({ partition: String(this.o.partition) }, seconds);
        resolve();
      }),
    );
  }

  /** Reading stops: whoever waits for room goes on (and finds the worker stopped). */
  stop(): void {
    this.stopped = true;
    for (const w of this.roomWaiters) w();
    this.roomWaiters = [];
  }

  /**
   * Reading stops while the buffer is full, so every recipient of the partition waits: usually
   * behind one endpoint that answers, but slowly (a failing one is parked and frees the buffer).
   * Names that recipient, so an operator sees who holds the partition up.
   */
  private warnFullBuffer(): void {
    const now = Date.now();
    if (now - this.lastFullBufferWarningAt < FULL_BUFFER_WARNING_INTERVAL_MS) return;
    this.lastFullBufferWarningAt = now;
    const busiest = this.o.lanes.busiest();
    this.o.logger.warn(
      {
        event: "deliverer.partition_buffer_full",
        partition: this.o.partition,
        held: this.held.size,
        buffer: this.o.buffer,
        recipients: this.o.lanes.activeKeys,
        busiestRecipient: busiest?.key,
        busiestRecipientJobs: busiest?.tasks,
      },
      "partition buffer full: reading paused, every recipient of this partition waits for room",
    );
  }
}
