/**
 * The bytes of request bodies this process holds while it reads them and until they are written to
 * Redis, in all and per client. A body takes its share before it is buffered; when either budget
 * is spent, new bodies are refused before they are read, so however many slow clients send at once
 * their buffers together stay within `maxBytes`, and one client's within `maxBytesPerClient` (it
 * cannot spend the whole budget and starve the others).
 */
export class BodyByteBudget {
  private used = 0;
  /** Only clients holding bytes now: bounded by the open connections. */
  private readonly perClient = new Map<string, number>();

  constructor(
    readonly maxBytes: number,
    readonly maxBytesPerClient: number,
  ) {}

  get bytesInUse(): number {
    return this.used;
  }

  /** Whether a body of `bytes` from this client would fit now (`client` undefined: exempt from the per-client share). */
  tryReserve(client: string | undefined, bytes: number): boolean {
    if (this.used + bytes > this.maxBytes) return false;
    if (client !== undefined) {
      const held = this.perClient.get(client) ?? 0;
      if (held + bytes > this.maxBytesPerClient) return false;
      if (bytes > 0) this.perClient.set(client, held + bytes);
    }
    this.used += bytes;
    return true;
  }

  /** Gives back bytes taken with `tryReserve` for the same client. */
  release(client: string | undefined, bytes: number): void {
    if (bytes <= 0) return;
    this.used = Math.max(0, this.used - bytes);
    if (client === undefined) return;
    const left = (this.perClient.get(client) ?? 0) - bytes;
    if (left > 0) this.perClient.set(client, left);
    else this.perClient.delete(client);
  }

  /** Whether nothing more fits for this client, not even one byte. */
  exhaustedFor(client: string | undefined): boolean {
    if (this.used >= this.maxBytes) return true;
    return client !== undefined && (this.perClient.get(client) ?? 0) >= this.maxBytesPerClient;
  }
}
