import type { RedisClient } from "./connection.js";
import { ensureGroup, readGroup, type StreamEntry } from "./streams.js";

export interface GroupReaderOptions {
  /** A connection used only by this reader (blocking reads occupy it). */
  client: RedisClient;
  stream: string;
  group: string;
  consumer: string;
  entryField: string;
  count: number;
  blockMs: number;
  /**
   * Handles a batch. The reader does not read again until this resolves, so
   * resolving only when there is room for more is how a consumer applies backpressure.
   */
  onBatch: (entries: StreamEntry[]) => Promise<void>;
  onError: (error: Error) => void;
  /** Delay before retrying after a Redis error. */
  retryDelayMs?: number;
}

/**
 * Reads one stream as a member of a consumer group: first this consumer's own
 * pending entries (left by a crash or a lost reply), then new ones. After any
 * error it starts again from its own pending entries, because a blocked read
 * whose reply was lost has still made entries pending under this consumer.
 */
export class GroupReader {
  private running = false;
  private loop: Promise<void> | undefined;
  private rereadRequested = false;

  constructor(private readonly options: GroupReaderOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops reading; resolves when the batch in hand has been handled. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /**
   * The next read starts again from this consumer's own pending entries (after the read under way,
   * if any): for a consumer that handles entries after `onBatch` resolved and left one
   * unacknowledged after a failure, as an error thrown by `onBatch` would.
   */
  rereadPending(): void {
    this.rereadRequested = true;
  }

  get isRunning(): boolean {
    return this.running;
  }

  private async run(): Promise<void> {
    const o = this.options;
    let groupReady = false;
    let after = "0";
    while (this.running) {
      try {
        if (this.rereadRequested) {
          this.rereadRequested = false;
          after = "0";
        }
        if (!groupReady) {
          await ensureGroup(o.client, o.stream, o.group);
          groupReady = true;
        }
        const entries = await readGroup(o.client, {
          stream: o.stream,
          group: o.group,
          consumer: o.consumer,
          entryField: o.entryField,
          count: o.count,
          blockMs: o.blockMs,
          after,
        });
        if (after !== ">") {
          // Own pending entries: page through them, then switch to new ones.
          if (entries.length === 0) {
            after = ">";
            continue;
          }
          after = (entries[entries.length - 1] as StreamEntry).id;
        }
        if (entries.length > 0 && this.running) {
          await o.onBatch(entries);
        } else if (entries.length > 0) {
          // Stopped while blocked: the entries stay pending for this consumer
          // (or whoever claims them) and are handled after a restart.
          return;
        }
      } catch (error) {
        if (!this.running) return;
        o.onError(error as Error);
        groupReady = false;
        after = "0";
        await new Promise((resolve) => setTimeout(resolve, o.retryDelayMs ?? 500));
      }
    }
  }
}
