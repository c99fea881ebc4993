import { DEFAULT_DEAD_AFTER_MS, DEFAULT_HEARTBEAT_MS, type Keyspace, type RedisClient } from "@acapy-bridge/protocol";

/** The shims' role in the members zsets (plugin-py-shim's runtime heartbeats under it). */
const SHIM_ROLE = "shim";

/**
 * Whether any ACA-Py (its shim) is alive to answer a request, by the shims' heartbeats. An
 * authcrypted POST waits for ACA-Py's direct response; with no live shim none can come, and the
 * request would be held for the whole reply timeout. Refreshed on a timer, so the hot path reads a
 * field; only while no shim is known to be live does a request ask Redis again (one shared read), so
 * that a shim that just started is seen at once.
 */
export class ShimPresence {
  private live = 0;
  private known = false;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<number> | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly refreshMs: number = DEFAULT_HEARTBEAT_MS / 2,
    private readonly deadAfterMs: number = DEFAULT_DEAD_AFTER_MS,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Live shims at the last read (for the gauge). */
  get liveCount(): number {
    return this.live;
  }

  /** True when the last read found a live shim (or could not read): the hot path needs no Redis call. */
  get assumedLive(): boolean {
    return this.live > 0 || !this.known;
  }

  /** True unless Redis says no shim is alive; when it cannot be read, assume one is (and wait, as before). */
  async anyLive(): Promise<boolean> {
    if (this.assumedLive) return true;
    return (await this.refresh()) > 0;
  }

  private refresh(): Promise<number> {
    this.reading ??= this.client
      .zcount(this.keyspace.key("members", { role: SHIM_ROLE }), Date.now() - this.deadAfterMs, "+inf")
      .then(
        (count) => {
          this.live = count;
          this.known = true;
          return count;
        },
        () => {
          this.known = false;
          return 1;
        },
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
