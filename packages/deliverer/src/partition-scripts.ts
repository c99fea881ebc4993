import { createHash } from "node:crypto";
import type { Keyspace, RedisClient } from "@acapy-bridge/protocol";
import { lua } from "@acapy-bridge/protocol";

/** The partition's lease is no longer ours: stop touching the partition at once. */
export class FencedError extends Error {
  override name = "FencedError";
  constructor(readonly partition: number) {
    super(`lease of outbound partition ${partition} lost`);
  }
}

/** How retry_ok and bury_parked recognise the head the caller read (see proto/scripts/retry_ok.lua). */
function headDigest(head: Uint8Array): string {
  return createHash("sha1").update(head).digest("hex");
}

/**
 * The state transitions of one owned outbound partition, each one Lua script
 * over keys of the partition's slot, each fenced by the lease value: after a
 * takeover, a late call from the previous owner changes nothing.
 */
export class PartitionScripts {
  readonly lease: string;
  readonly stream: string;
  readonly retry: string;
  readonly deadLetters: string;
  readonly group: string;
  readonly entryField: string;
  readonly deadLetterField: string;

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    readonly partition: number,
    /** "<instance id>:<token>" of this ownership. */
    readonly leaseValue: string,
    private readonly deadLetterCap: number,
  ) {
    this.lease = keyspace.key("outboundLease", { partition });
    this.stream = keyspace.key("outboundQueue", { partition });
    this.retry = keyspace.key("outboundRetrySchedule", { partition });
    this.deadLetters = keyspace.key("outboundDeadLetters", { partition });
    this.group = keyspace.spec("outboundQueue").consumerGroup;
    this.entryField = keyspace.spec("outboundQueue").entryField;
    this.deadLetterField = keyspace.spec("outboundDeadLetters").entryField;
  }

  park(recipient: string): string {
    return this.keyspace.key("outboundParked", { partition: this.partition, recipient });
  }

  /** A fenced script's reply, or FencedError when it answered FENCED (the lease is no longer ours). */
  private unfenced<R extends [string, ...unknown[]]>(reply: R): Exclude<R, ["FENCED"]> {
    if (reply[0] === "FENCED") throw new FencedError(this.partition);
    return reply as Exclude<R, ["FENCED"]>;
  }

  /** Acknowledges and deletes delivered entries. */
  async ack(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    this.unfenced(
      await lua.fencedAck(this.client, {
        lease: this.lease,
        stream: this.stream,
        owner: this.leaseValue,
        group: this.group,
        ids,
      }),
    );
  }

  /**
   * "GO": deliver it; "PARKED": appended behind the recipient's parked jobs (and acknowledged).
   * Appends only while the entry is still pending: a call resent after a lost connection answers
   * "PARKED" again without parking the job twice.
   */
  async admit(entryId: string, recipient: string, parkedJob: Uint8Array): Promise<"GO" | "PARKED"> {
    const reply = await lua.admit(this.client, {
      lease: this.lease,
      stream: this.stream,
      park: this.park(recipient),
      owner: this.leaseValue,
      group: this.group,
      entryId,
      parkedJob,
    });
    return this.unfenced(reply)[0];
  }

  /**
   * First transient failure: the entry becomes the head of its recipient's park list, due at `dueMs`.
   * Parks only while the entry is still pending: a call resent after a lost connection parks nothing.
   */
  async defer(entryId: string, recipient: string, parkedJob: Uint8Array, dueMs: number): Promise<void> {
    const reply = await lua.defer(this.client, {
      lease: this.lease,
      stream: this.stream,
      park: this.park(recipient),
      retry: this.retry,
      owner: this.leaseValue,
      group: this.group,
      entryId,
      parkedJob,
      dueMs,
      recipient,
    });
    this.unfenced(reply);
  }

  /**
   * The parked head `delivered` (as read) was delivered, or, undefined, the park list was found
   * empty; true when more are parked (due now). Removes the head only while it is still
   * `delivered`: a call resent after a lost connection must not remove the next job.
   */
  async retryOk(recipient: string, delivered: Uint8Array | undefined, now = Date.now()): Promise<boolean> {
    const reply = await lua.retryOk(this.client, {
      lease: this.lease,
      park: this.park(recipient),
      retry: this.retry,
      owner: this.leaseValue,
      recipient,
      nowMs: now,
      headDigest: delivered ? headDigest(delivered) : undefined,
    });
    return this.unfenced(reply)[0] === "NEXT";
  }

  /** The parked head failed again: store it with its new attempt count, due at `dueMs`. */
  async retryFail(recipient: string, parkedJob: Uint8Array, dueMs: number): Promise<void> {
    const reply = await lua.retryFail(this.client, {
      lease: this.lease,
      park: this.park(recipient),
      retry: this.retry,
      owner: this.leaseValue,
      recipient,
      parkedJob,
      dueMs,
    });
    this.unfenced(reply);
  }

  /**
   * Dead-letters the parked head `buried` (as read); true when more are parked (due now). Writes
   * the dead letter and removes the head only while it is still `buried`: a call resent after a
   * lost connection must neither write a second dead letter nor remove the next job.
   */
  async buryParked(recipient: string, buried: Uint8Array, deadLetter: Uint8Array, now = Date.now()): Promise<boolean> {
    const reply = await lua.buryParked(this.client, {
      lease: this.lease,
      park: this.park(recipient),
      retry: this.retry,
      deadLetters: this.deadLetters,
      owner: this.leaseValue,
      recipient,
      nowMs: now,
      entryField: this.deadLetterField,
      deadLetter,
      cap: this.deadLetterCap,
      headDigest: headDigest(buried),
    });
    return this.unfenced(reply)[0] === "NEXT";
  }

  /** Dead-letters a pending stream entry. */
  async buryEntry(entryId: string, deadLetter: Uint8Array): Promise<void> {
    const reply = await lua.fencedBury(this.client, {
      lease: this.lease,
      stream: this.stream,
      deadLetters: this.deadLetters,
      owner: this.leaseValue,
      group: this.group,
      entryId,
      entryField: this.deadLetterField,
      deadLetter,
      cap: this.deadLetterCap,
    });
    this.unfenced(reply);
  }

  /** The parked head of a recipient, or undefined. */
  async parkedHead(recipient: string): Promise<Buffer | undefined> {
    return (await this.client.lindexBuffer(this.park(recipient), "0")) ?? undefined;
  }

  /** Recipients with parked jobs (every park list has its recipient in the retry schedule). */
  async parkedRecipients(): Promise<string[]> {
    return this.client.zrange(this.retry, "0", "-1");
  }

  /** Parked recipients whose retry is due. */
  async dueRecipients(now: number, limit: number): Promise<string[]> {
    return this.client.zrangebyscore(this.retry, "-inf", now, "LIMIT", 0, limit);
  }
}
