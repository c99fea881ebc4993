interface Bucket {
  tokens: number;
  refilledAt: number;
}

export interface ClientRateConfig {
  /** Tokens added per second; 0 = no rate limit. */
  perSecond: number;
  /** Bucket size: requests a client may make at once after a quiet spell. */
  burst: number;
  /** Clients whose buckets are kept; the least recently seen is forgotten beyond it (a fresh client starts full). */
  maxTrackedClients: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * A token bucket per client, in a map kept in least-recently-seen order and cut at
 * `maxTrackedClients`, so memory stays bounded however many addresses a flood comes from.
 * Forgetting a client gives it a full bucket again: a flood spread over more addresses than are
 * tracked gets at most `burst` per address per eviction, and the connection limits still hold.
 */
export class ClientRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly config: ClientRateConfig,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get trackedClients(): number {
    return this.buckets.size;
  }

  take(client: string): RateDecision {
    const { perSecond, burst, maxTrackedClients } = this.config;
    if (perSecond <= 0) return { allowed: true };
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (bucket) {
      this.buckets.delete(client);
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * perSecond);
      bucket.refilledAt = now;
    } else {
      bucket = { tokens: burst, refilledAt: now };
      if (this.buckets.size >= maxTrackedClients) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
    }
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond)) };
  }
}
