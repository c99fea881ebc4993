import type { Logger } from "@acapy-bridge/operability";
import { autoClaimIds, type StreamEntry } from "@acapy-bridge/protocol";
import type { DelivererMetrics } from "./deliverer-metrics.js";
import { type PendingEntriesOf, readPendingEntry } from "./pending-entries.js";

export interface StrandedEntrySweepOptions extends PendingEntriesOf {
  logger: Logger;
  metrics: DelivererMetrics;
  intervalMs: number;
  /** How long an entry must have been idle to count as stranded. */
  minIdleMs: number;
  /** Whether the worker holds the entry now (queued in a lane or in flight). */
  isHeld: (id: string) => boolean;
  /** The worker has stopped: the sweep ends. */
  isStopped: () => boolean;
  /** Hands a stranded entry to the worker as if read: resolves once there is room for more. */
  redeliver: (entry: StreamEntry) => Promise<void>;
  onError: (error: unknown) => void;
}

/**
 * Backstop: an entry pending but idle that nothing here holds is taken over and delivered. Under
 * this consumer its read reply was lost (a Redis restart, say); under another, a previous owner
 * read it after its lease had expired, before it fenced itself. The lease makes this owner the
 * partition's only legitimate reader, so every such entry is stranded. Taken over by id, which
 * does not count as a delivery towards maxDeliveries.
 */
export class StrandedEntrySweep {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(private readonly o: StrandedEntrySweepOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      // One sweep at a time: a sweep can wait long for room in the buffer, and a second one would
      // hand out again what the first has in hand.
      if (this.sweeping) return;
      this.sweeping = true;
      this.sweep()
        .catch((error) => this.o.onError(error))
        .finally(() => {
          this.sweeping = false;
        });
    }, this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    const { scripts, commands, instanceId, minIdleMs } = this.o;
    const partition = scripts.partition;
    let cursor = "0-0";
    do {
      if (this.o.isStopped()) return;
      const step = await autoClaimIds(commands, {
        stream: scripts.stream,
        group: scripts.group,
        consumer: instanceId,
        minIdleMs,
        cursor,
        count: 100,
      });
      cursor = step.cursor;
      if (step.deletedIds.length > 0) {
        this.o.logger.info(
          { event: "deliverer.stranded_deleted", partition, entries: step.deletedIds.length },
          "pending entries deleted from the stream: dropped from the pending list, nothing to deliver",
        );
      }
      for (const id of step.ids) {
        if (this.o.isStopped()) return;
        if (this.o.isHeld(id)) continue;
        const entry = await readPendingEntry(this.o, id);
        // Gone: delivered and acknowledged (or otherwise settled) since the claim, done.
        if (!entry || this.o.isHeld(id)) continue;
        this.o.metrics.strandedEntries.inc();
        this.o.logger.warn(
          { event: "deliverer.stranded_entry", partition, entry: id, minIdleMs },
          "re-delivering an entry that was pending but not held",
        );
        await this.o.redeliver(entry);
      }
    } while (cursor !== "0-0");
  }
}
