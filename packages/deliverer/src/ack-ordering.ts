import type { AckBatcher } from "./ack-batcher.js";
import type { PartitionScripts } from "./partition-scripts.js";

/**
 * The order of a partition's acknowledgements per recipient. A delivered entry is acknowledged in
 * the background, batched with the other partitions' (AckBatcher, which keeps them in order);
 * parking, deferring or dead-lettering an entry acknowledges it at once, outside the batcher, so it
 * first waits for the recipient's earlier acknowledgements (`earlierAcksLanded`).
 */
export class AckOrdering {
  /** Acknowledgements of delivered entries still on their way (a graceful stop waits for them). */
  private readonly acknowledging = new Set<Promise<void>>();
  /** The latest acknowledgement still on its way, by recipient. */
  private readonly lastAckOf = new Map<string, Promise<void>>();

  constructor(
    private readonly acks: AckBatcher,
    private readonly scripts: PartitionScripts,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * Acknowledges a delivered entry and then calls `landed`; never rejects. The AckBatcher retries
   * Redis errors itself; a lost lease (FencedError) goes to `onError`, which stops the worker.
   */
  acknowledgeInBackground(id: string, rk: string, landed: () => void): Promise<void> {
    const done = () => {
      this.acknowledging.delete(acknowledged);
      if (this.lastAckOf.get(rk) === acknowledged) this.lastAckOf.delete(rk);
      landed();
    };
    const acknowledged: Promise<void> = this.acks.ack(this.scripts, id).then(done, (error: unknown) => {
      this.onError(error);
      done();
    });
    this.acknowledging.add(acknowledged);
    this.lastAckOf.set(rk, acknowledged);
    return acknowledged;
  }

  /**
   * Resolves once the recipient's earlier delivered entries are acknowledged: an entry acknowledged
   * at once ahead of them would, after a crash, see an earlier job repeated after a later one was parked.
   */
  async earlierAcksLanded(rk: string): Promise<void> {
    const previous = this.lastAckOf.get(rk);
    if (!previous) return;
    this.acks.hurry();
    await previous;
  }

  /** Every acknowledgement on its way has landed (or failed). */
  async allLanded(): Promise<void> {
    await Promise.all(this.acknowledging);
  }
}
