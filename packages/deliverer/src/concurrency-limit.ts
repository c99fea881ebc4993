/**
 * At most `limit` holders at once; waiters are served in arrival order. Slots
 * are taken and released without allocating (one per delivery attempt, on the
 * hot path): a holder calls `release()` exactly once.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly limit: number) {}

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Takes a slot when one is free now (no one waits while a slot is free). */
  tryTake(): boolean {
    if (this.active >= this.limit) return false;
    this.active++;
    return true;
  }

  /** Resolves once the caller holds a slot. */
  take(): Promise<void> {
    if (this.tryTake()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Hands the caller's slot to the longest waiter, or frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }
}

/** One Semaphore per key (e.g. endpoint origin), forgotten when idle. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(private readonly limit: number) {}

  tryTake(key: string): boolean {
    return this.semaphoreOf(key).tryTake();
  }

  take(key: string): Promise<void> {
    return this.semaphoreOf(key).take();
  }

  release(key: string): void {
    const semaphore = this.byKey.get(key);
    if (!semaphore) return;
    semaphore.release();
    if (semaphore.inUse === 0 && semaphore.waiting === 0) this.byKey.delete(key);
  }

  inUse(key: string): number {
    return this.byKey.get(key)?.inUse ?? 0;
  }

  private semaphoreOf(key: string): Semaphore {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.limit);
      this.byKey.set(key, semaphore);
    }
    return semaphore;
  }
}
