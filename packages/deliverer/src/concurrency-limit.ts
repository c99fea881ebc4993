/** At most `limit` holders at once; waiters are served in arrival order. */
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

  /** A release function when a slot is free now (no one waits while a slot is free), else undefined. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.limit) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Resolves with a release function once a slot is free. */
  acquire(): Promise<() => void> {
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise((resolve) => {
      this.waiters.push(() => resolve(this.releaser()));
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/** One Semaphore per key (e.g. endpoint origin), forgotten when idle. */
export class KeyedSemaphore {
  private readonly byKey = new Map<string, Semaphore>();

  constructor(private readonly limit: number) {}

  /** A release function when the key has a slot free now, else undefined. */
  tryAcquire(key: string): (() => void) | undefined {
    const semaphore = this.semaphoreOf(key);
    const release = semaphore.tryAcquire();
    return release && this.forgettingWhenIdle(key, semaphore, release);
  }

  async acquire(key: string): Promise<() => void> {
    const semaphore = this.semaphoreOf(key);
    const release = await semaphore.acquire();
    return this.forgettingWhenIdle(key, semaphore, release);
  }

  private semaphoreOf(key: string): Semaphore {
    let semaphore = this.byKey.get(key);
    if (!semaphore) {
      semaphore = new Semaphore(this.limit);
      this.byKey.set(key, semaphore);
    }
    return semaphore;
  }

  private forgettingWhenIdle(key: string, s: Semaphore, release: () => void): () => void {
    return () => {
      release();
      if (s.inUse === 0 && s.waiting === 0 && this.byKey.get(key) === s) this.byKey.delete(key);
    };
  }

  inUse(key: string): number {
    return this.byKey.get(key)?.inUse ?? 0;
  }
}
