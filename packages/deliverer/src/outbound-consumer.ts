import { createHash } from "node:crypto";
import type { Logger } from "@acapy-bridge/operability";
import {
  autoClaimIds,
  DeadLetterReason,
  decodeEnvelope,
  EnvelopeDecodeError,
  encodeEnvelope,
  ensureGroup,
  GroupReader,
  JobKind,
  type OutboundJob,
  type ParkedJob,
  ParkedJobSchema,
  pendingOf,
  type RedisClient,
  type StreamEntry,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import { AckAbandonedError, type AckBatcher } from "./ack-batcher.js";
import { buildDeadLetter } from "./dead-letters.js";
import type { DelivererMetrics } from "./deliverer-metrics.js";
import type { DelivererConfig } from "./deliverer-options.js";
import type { EndpointDelivery } from "./endpoint-delivery.js";
import { type AttemptOutcome, retryDelayMs, unsendable } from "./failure-policy.js";
import { decodeOutboundJob } from "./outbound-job-decoder.js";
import { FencedError, type PartitionScripts } from "./partition-scripts.js";
import { RecipientLanes } from "./recipient-lanes.js";
import { RetryScheduler } from "./retry-scheduler.js";

/**
 * How often, and after how long idle, pending entries nothing holds are picked up again. The idle
 * bound is at least twice the lease TTL: an entry pending under a previous owner is taken only
 * after that owner has had time to notice that its lease is gone (it would deliver it twice).
 */
const STRANDED_SWEEP_MS = 5_000;
const STRANDED_IDLE_MS = 20_000;

export interface PartitionWorkerOptions {
  scripts: PartitionScripts;
  /** The shared commands connection. */
  commands: RedisClient;
  /** Opens this partition's own blocking connection (XREADGROUP BLOCK occupies it). */
  openBlocking: () => RedisClient;
  delivery: EndpointDelivery;
  /** Shared by every partition of this deliverer: acknowledgements go out together. */
  acks: AckBatcher;
  config: DelivererConfig;
  instanceId: string;
  logger: Logger;
  metrics: DelivererMetrics;
  /** A script answered FENCED: the lease is gone, the owner must stop this worker. */
  onFenced: () => void;
  /** How often stranded entries are looked for (default STRANDED_SWEEP_MS; tests shorten it). */
  strandedSweepMs?: number;
  /** How long an entry must have been idle to count as stranded (default: STRANDED_IDLE_MS, at least twice the lease TTL). */
  strandedIdleMs?: number;
}

const SAFE_KEY = /^[^{}\s\p{Cc}]{1,200}$/u;

const FULL_BUFFER_WARNING_INTERVAL_MS = 60_000;

/** The lane and park-list key of a job: its recipient key, hashed when it could not be part of a Redis key. */
export function laneKeyOf(job: OutboundJob, entryId: string): string {
  const rk = job.recipientKey;
  if (!rk) return `entry:${entryId}`;
  return SAFE_KEY.test(rk) ? rk : `sha256:${createHash("sha256").update(rk).digest("hex")}`;
}

function kindLabel(job: OutboundJob | undefined): string {
  return job?.kind === JobKind.WEBHOOK ? "webhook" : "didcomm";
}

function isExpired(job: OutboundJob, now: number): boolean {
  return job.expiresAtMs > 0n && Number(job.expiresAtMs) <= now;
}

/** Nothing left to do for the entry. */
const NOTHING_DONE: Promise<undefined> = Promise.resolve(undefined);

/**
 * A job delivered, its entry's acknowledgement on its way; the acknowledgement
 * releases the entry (wrapped: a promise resolved with a promise would wait for it).
 */
interface Delivered {
  acknowledged: Promise<void>;
}

/**
 * Delivers one owned outbound partition: takes over what a previous owner
 * left pending, reads the stream as the consumer group's member, keeps each
 * recipient's jobs in order (a lane per recipient, a park list in Redis while
 * the recipient is in backoff) and lets other recipients flow meanwhile.
 */
export class PartitionWorker {
  private readonly lanes: RecipientLanes;
  private readonly retries: RetryScheduler;
  /**
   * Recipients with a park list in Redis, or that may have one: a park whose reply was lost
   * leaves it unknown, and `admit` (atomic) finds out. Only this owner changes park lists, one lane at a time.
   */
  private parked = new Set<string>();
  /** Entry ids held in memory (queued in a lane or in flight). */
  private readonly held = new Set<string>();
  /** Recipients with a drain queued in their lane. */
  private readonly draining = new Set<string>();
  private reader: GroupReader | undefined;
  private blocking: RedisClient | undefined;
  private stopped = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private roomWaiters: (() => void)[] = [];
  /** When reading last paused on a full buffer with a warning (one warning a minute per partition). */
  private lastFullBufferWarningAt = Number.NEGATIVE_INFINITY;
  /** Acknowledgements of delivered entries still on their way (a graceful stop waits for them). */
  private readonly acknowledging = new Set<Promise<void>>();
  /** The latest acknowledgement still on its way, by recipient. */
  private readonly lastAckOf = new Map<string, Promise<void>>();

  constructor(private readonly o: PartitionWorkerOptions) {
    this.lanes = new RecipientLanes((error, key) => this.onTaskError(error, key));
    this.retries = new RetryScheduler({
      scripts: o.scripts,
      pollMs: o.config.retryPollMs,
      hasParked: () => this.parked.size > 0,
      onDue: (recipient) => this.scheduleDrain(recipient),
      onError: (error) => this.onTaskError(error, "retry-scheduler"),
    });
  }

  get partition(): number {
    return this.o.scripts.partition;
  }

  get heldEntries(): number {
    return this.held.size;
  }

  get parkedCount(): number {
    return this.parked.size;
  }

  /** Takes over the partition: claims every pending entry, buries crash-looping ones, then reads. */
  async start(): Promise<void> {
    const { scripts, commands, instanceId, config } = this.o;
    await ensureGroup(commands, scripts.stream, scripts.group);
    this.parked = new Set(await scripts.parkedRecipients());
    // The lease proves the previous owner has stopped: take its pending entries at once. By id:
    // the reader hands them out (reading its own pending entries first), and only that counts
    // towards maxDeliveries, so a takeover costs an entry one delivery, not two.
    let cursor = "0-0";
    let claimed = 0;
    do {
      const step = await autoClaimIds(commands, {
        stream: scripts.stream,
        group: scripts.group,
        consumer: instanceId,
        minIdleMs: 0,
        cursor,
        count: 100,
      });
      claimed += step.ids.length;
      cursor = step.cursor;
    } while (cursor !== "0-0" && !this.stopped);
    await this.buryPoison();
    if (this.stopped) return;
    this.blocking = this.o.openBlocking();
    this.blocking.on("error", () => {}); // the reader reports errors
    this.reader = new GroupReader({
      client: this.blocking,
      stream: scripts.stream,
      group: scripts.group,
      consumer: instanceId,
      entryField: scripts.entryField,
      count: config.readCount,
      blockMs: config.blockMs,
      onBatch: (entries) => this.onBatch(entries),
      onError: (error) =>
        this.o.logger.warn({ event: "deliverer.read_error", partition: this.partition, err: error.message }),
      retryDelayMs: 500,
    });
    this.reader.start();
    this.retries.start();
    this.sweepTimer = setInterval(() => {
      // One sweep at a time: a sweep can wait long for room in the buffer, and a second one would
      // hand out again what the first has in hand.
      if (this.sweeping) return;
      this.sweeping = true;
      this.sweepStranded()
        .catch((error) => this.onTaskError(error, "stranded-sweep"))
        .finally(() => {
          this.sweeping = false;
        });
    }, this.o.strandedSweepMs ?? STRANDED_SWEEP_MS);
    this.sweepTimer.unref();
    this.o.logger.info(
      { event: "deliverer.partition_started", partition: this.partition, claimed, parked: this.parked.size },
      `delivering outbound partition ${this.partition}`,
    );
  }

  /**
   * Backstop: an entry pending but idle that nothing here holds is taken over and delivered. Under
   * this consumer its read reply was lost (a Redis restart, say); under another, a previous owner
   * read it after its lease had expired, before it fenced itself. The lease makes this owner the
   * partition's only legitimate reader, so every such entry is stranded. Taken over by id, which
   * does not count as a delivery towards maxDeliveries.
   */
  private async sweepStranded(): Promise<void> {
    const { scripts, commands, instanceId } = this.o;
    const minIdleMs = this.o.strandedIdleMs ?? Math.max(STRANDED_IDLE_MS, 2 * this.o.config.leaseTtlMs);
    let cursor = "0-0";
    do {
      if (this.stopped) return;
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
          { event: "deliverer.stranded_deleted", partition: this.partition, entries: step.deletedIds.length },
          "pending entries deleted from the stream: dropped from the pending list, nothing to deliver",
        );
      }
      for (const id of step.ids) {
        if (this.stopped) return;
        if (this.held.has(id)) continue;
        const entry = await this.readPendingEntry(id);
        // Gone: delivered and acknowledged (or otherwise settled) since the claim, done.
        if (!entry || this.held.has(id)) continue;
        this.o.metrics.strandedEntries.inc();
        this.o.logger.warn(
          { event: "deliverer.stranded_entry", partition: this.partition, entry: id, minIdleMs },
          "re-delivering an entry that was pending but not held",
        );
        await this.onBatch([entry]);
      }
    } while (cursor !== "0-0");
  }

  /** The entry `id` as it is in the stream now; undefined when it has been deleted. */
  private async readPendingEntry(id: string): Promise<StreamEntry | undefined> {
    const { scripts, commands } = this.o;
    const raw = (await commands.xrangeBuffer(scripts.stream, id, id)) as [Buffer, Buffer[]][];
    if (raw.length === 0) return undefined;
    const fields = raw[0]?.[1] ?? [];
    let payload: Buffer | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if ((fields[i] as Buffer).toString() === scripts.entryField) payload = fields[i + 1];
    }
    return { id, payload };
  }

  /** Entries handed out more than `maxDeliveries` times go to the dead letters as poison. */
  private async buryPoison(): Promise<void> {
    const { scripts, commands, instanceId, config } = this.o;
    const pending = await pendingOf(commands, scripts.stream, scripts.group, instanceId, 10_000);
    for (const p of pending) {
      if (p.deliveries <= config.maxDeliveries || this.stopped) continue;
      const payload = (await this.readPendingEntry(p.id))?.payload;
      let job: OutboundJob | undefined;
      try {
        job = payload ? decodeOutboundJob(payload) : undefined;
      } catch {
        job = undefined;
      }
      await this.buryEntry(p.id, {
        reason: DeadLetterReason.POISON,
        detail: `handed out ${p.deliveries} times (limit ${config.maxDeliveries})`,
        attempts: p.deliveries,
        job,
        undecodable: job ? undefined : payload,
      });
    }
  }

  private async onBatch(entries: StreamEntry[]): Promise<void> {
    for (const entry of entries) {
      if (this.stopped) return;
      if (this.held.has(entry.id)) continue;
      let job: OutboundJob;
      try {
        // No envelope field: written by something else, or deleted while pending.
        if (!entry.payload) throw new Error(`entry has no "${this.o.scripts.entryField}" field`);
        job = decodeOutboundJob(entry.payload);
      } catch (error) {
        const detail = error instanceof EnvelopeDecodeError ? error.message : (error as Error).message;
        await this.buryEntry(entry.id, {
          reason: DeadLetterReason.MALFORMED,
          detail,
          attempts: 0,
          undecodable: entry.payload,
          mid: `entry:${entry.id}`,
        }).catch((e) => this.onTaskError(e, "bury"));
        continue;
      }
      const id = entry.id;
      this.held.add(id);
      const lane = laneKeyOf(job, id);
      // Held until acknowledged (the stranded sweep must not deliver it again meanwhile):
      // a delivered entry is released by its acknowledgement, any other at the end of its task.
      this.lanes.push(lane, () =>
        this.processEntryPatiently(id, job, lane).then(
          (delivered) => {
            if (!delivered) this.release(id);
          },
          (error: unknown) => {
            this.release(id);
            throw error;
          },
        ),
      );
    }
    await this.room();
  }

  private release(id: string): void {
    this.held.delete(id);
    if (this.held.size < this.o.config.partitionBuffer && this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when fewer than `partitionBuffer` entries are held (backpressure on reading). */
  private room(): Promise<void> {
    if (this.held.size < this.o.config.partitionBuffer || this.stopped) return Promise.resolve();
    this.warnFullBuffer();
    const pausedAt = performance.now();
    return new Promise((resolve) =>
      this.roomWaiters.push(() => {
        const seconds = (performance.now() - pausedAt) / 1000;
        this.o.metrics.readingPausedSeconds.inc({ partition: String(this.partition) }, seconds);
        resolve();
      }),
    );
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
    const busiest = this.lanes.busiest();
    this.o.logger.warn(
      {
        event: "deliverer.partition_buffer_full",
        partition: this.partition,
        held: this.held.size,
        buffer: this.o.config.partitionBuffer,
        recipients: this.lanes.activeKeys,
        busiestRecipient: busiest?.key,
        busiestRecipientJobs: busiest?.tasks,
      },
      "partition buffer full: reading paused, every recipient of this partition waits for room",
    );
  }

  /**
   * A Redis error mid-way (not a lost lease) is retried in place, holding the
   * recipient's lane so its order holds; a retried step may deliver twice.
   */
  private processEntryPatiently(
    id: string,
    job: OutboundJob,
    lane: string,
    failures = 0,
  ): Promise<Delivered | undefined> {
    let processing: Promise<Delivered | undefined>;
    try {
      processing = this.processEntry(id, job, lane);
    } catch (error) {
      processing = Promise.reject(error);
    }
    return processing.catch(async (error: unknown) => {
      if (error instanceof FencedError || this.stopped) throw error;
      this.onTaskError(error, lane);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * 2 ** failures)));
      return this.processEntryPatiently(id, job, lane, failures + 1);
    });
  }

  /**
   * Delivered: the acknowledgement under way; undefined when the step is complete. The common
   * case (recipient not parked, job not expired, delivered) runs without an async frame: its
   * allocations are most of a delivery's garbage.
   */
  private processEntry(id: string, job: OutboundJob, rk: string): Promise<Delivered | undefined> {
    if (this.stopped) return NOTHING_DONE; // stays pending: the next owner delivers it
    if (this.parked.has(rk)) return this.admitThenAttempt(id, job, rk);
    return this.attemptUnlessExpired(id, job, rk);
  }

  /** The recipient is in backoff: the entry joins its park list unless that has drained meanwhile. */
  private async admitThenAttempt(id: string, job: OutboundJob, rk: string): Promise<Delivered | undefined> {
    await this.earlierAcksLanded(rk);
    const queued = create(ParkedJobSchema, { attempts: 0, job });
    const verdict = await this.o.scripts.admit(id, rk, encodeEnvelope(ParkedJobSchema, queued));
    if (verdict === "PARKED") {
      this.o.metrics.deliveries.inc({ outcome: "parked", kind: kindLabel(job) });
      return;
    }
    this.parked.delete(rk); // drained meanwhile
    return this.attemptUnlessExpired(id, job, rk);
  }

  private attemptUnlessExpired(id: string, job: OutboundJob, rk: string): Promise<Delivered | undefined> {
    const now = Date.now();
    if (isExpired(job, now)) return this.buryExpired(id, job, rk);
    return this.attempt(job).then((outcome) =>
      outcome.ok ? this.delivered(id, job, rk) : this.afterFailedAttempt(id, job, rk, outcome, now),
    );
  }

  private delivered(id: string, job: OutboundJob, rk: string): Delivered {
    this.recordDelivered(job, 1);
    // The recipient's next job does not wait for this acknowledgement: the endpoint has this
    // one, and the AckBatcher takes acknowledgements to Redis in order, so a redelivery after
    // a crash repeats the recipient's jobs in their order.
    return { acknowledged: this.acknowledgeInBackground(id, rk) };
  }

  private async buryExpired(id: string, job: OutboundJob, rk: string): Promise<undefined> {
    await this.earlierAcksLanded(rk);
    await this.buryEntry(id, {
      reason: DeadLetterReason.EXPIRED,
      detail: "expired before delivery",
      attempts: 0,
      job,
    });
    return undefined;
  }

  /** A first attempt failed: dead-lettered when it cannot succeed, else parked for a retry. */
  private async afterFailedAttempt(
    id: string,
    job: OutboundJob,
    rk: string,
    outcome: Extract<AttemptOutcome, { ok: false }>,
    now: number,
  ): Promise<undefined> {
    await this.earlierAcksLanded(rk);
    if (!outcome.retryable || this.o.config.maxAttempts <= 1) {
      await this.buryEntry(id, {
        reason: outcome.retryable ? DeadLetterReason.ATTEMPTS_EXHAUSTED : outcome.reason,
        detail: outcome.detail,
        attempts: 1,
        job,
      });
      return;
    }
    const delay = retryDelayMs(this.policy(), 1, outcome.retryAfterMs);
    const parkedJob = create(ParkedJobSchema, {
      attempts: 1,
      lastError: outcome.detail,
      firstAttemptAtMs: BigInt(now),
      job,
    });
    // Parked (and its retry planned) before the call: should defer run but its reply be lost,
    // the retried step must go through admit, which finds the park list, rather than deliver this
    // job, and the recipient's next ones, ahead of the parked copy.
    this.parked.add(rk);
    this.retries.wakeAt(now + delay);
    await this.o.scripts.defer(id, rk, encodeEnvelope(ParkedJobSchema, parkedJob), now + delay);
    this.o.metrics.deliveries.inc({ outcome: "retry_scheduled", kind: kindLabel(job) });
    this.o.logger.debug({ event: "deliverer.retry_scheduled", partition: this.partition, mid: job.mid, delay });
  }

  private scheduleDrain(rk: string): void {
    if (this.stopped || this.draining.has(rk)) return;
    this.draining.add(rk);
    this.lanes.push(rk, async () => {
      try {
        await this.drain(rk);
      } finally {
        this.draining.delete(rk);
      }
    });
  }

  /** Delivers a parked recipient's jobs head first, until one fails again or none is left. */
  private async drain(rk: string): Promise<void> {
    const { scripts, config } = this.o;
    while (!this.stopped) {
      const head = await scripts.parkedHead(rk);
      if (!head) {
        await scripts.retryOk(rk, undefined); // nothing parked: clear the schedule
        this.parked.delete(rk);
        return;
      }
      let parkedJob: ParkedJob;
      try {
        parkedJob = decodeEnvelope(ParkedJobSchema, head);
      } catch (error) {
        const more = await this.buryParked(rk, head, {
          reason: DeadLetterReason.MALFORMED,
          detail: String((error as Error).message),
          attempts: 0,
          undecodable: head,
          mid: `park:${rk}`,
        });
        if (!more) return;
        continue;
      }
      const job = parkedJob.job as OutboundJob;
      const now = Date.now();
      if (isExpired(job, now)) {
        const more = await this.buryParked(rk, head, {
          reason: DeadLetterReason.EXPIRED,
          detail: parkedJob.lastError ? `expired; last error: ${parkedJob.lastError}` : "expired before delivery",
          attempts: parkedJob.attempts,
          job,
        });
        if (!more) return;
        continue;
      }
      const outcome = await this.attempt(job);
      const attempts = parkedJob.attempts + 1;
      if (outcome.ok) {
        this.recordDelivered(job, attempts);
        const more = await scripts.retryOk(rk, head);
        if (!more) {
          this.parked.delete(rk);
          return;
        }
        continue;
      }
      if (!outcome.retryable || attempts >= config.maxAttempts) {
        const more = await this.buryParked(rk, head, {
          reason: outcome.retryable ? DeadLetterReason.ATTEMPTS_EXHAUSTED : outcome.reason,
          detail: outcome.detail,
          attempts,
          job,
        });
        if (!more) return;
        continue;
      }
      const delay = retryDelayMs(this.policy(), attempts, outcome.retryAfterMs);
      const updated = create(ParkedJobSchema, {
        attempts,
        lastError: outcome.detail,
        firstAttemptAtMs: parkedJob.firstAttemptAtMs || BigInt(now),
        job,
      });
      await scripts.retryFail(rk, encodeEnvelope(ParkedJobSchema, updated), now + delay);
      this.retries.wakeAt(now + delay);
      this.o.metrics.deliveries.inc({ outcome: "retry_scheduled", kind: kindLabel(job) });
      return;
    }
  }

  private policy() {
    const c = this.o.config;
    return { baseMs: c.backoffBaseMs, capMs: c.backoffCapMs, maxRetryAfterMs: c.maxRetryAfterMs };
  }

  private attempt(job: OutboundJob): Promise<AttemptOutcome> {
    const started = performance.now();
    this.o.metrics.inFlight.inc();
    let attempting: Promise<AttemptOutcome>;
    try {
      attempting = this.o.delivery.deliver(job);
    } catch (error) {
      attempting = Promise.reject(error);
    }
    return attempting.then(
      (outcome) => {
        this.attemptEnded(job, started);
        return outcome;
      },
      (error: unknown) => {
        this.attemptEnded(job, started);
        // Not a Redis error: thrown up, processEntryPatiently would retry it in place for ever.
        this.o.logger.error(
          { event: "deliverer.send_threw", partition: this.partition, mid: job.mid, err: (error as Error)?.message },
          "the transport threw instead of answering; dead-lettering the job",
        );
        return unsendable(error);
      },
    );
  }

  private attemptEnded(job: OutboundJob, started: number): void {
    this.o.metrics.inFlight.dec();
    this.o.metrics.attemptSeconds.observe({ kind: kindLabel(job) }, (performance.now() - started) / 1000);
  }

  private recordDelivered(job: OutboundJob, attempts: number): void {
    const kind = kindLabel(job);
    this.o.metrics.deliveries.inc({ outcome: "delivered", kind });
    this.o.metrics.attemptsPerDelivery.observe({ kind }, attempts);
    if (job.createdAtMs > 0n) {
      this.o.metrics.endToEndSeconds.observe({ kind }, Math.max(0, Date.now() - Number(job.createdAtMs)) / 1000);
    }
  }

  private async buryEntry(
    id: string,
    facts: Omit<Parameters<typeof buildDeadLetter>[0], "sourceKey" | "instanceId">,
  ): Promise<void> {
    await this.o.scripts.buryEntry(
      id,
      buildDeadLetter({ ...facts, sourceKey: this.o.scripts.stream, instanceId: this.o.instanceId }),
    );
    this.recordDeadLetter(facts.reason, facts.job, facts.detail);
  }

  private async buryParked(
    rk: string,
    head: Buffer,
    facts: Omit<Parameters<typeof buildDeadLetter>[0], "sourceKey" | "instanceId">,
  ): Promise<boolean> {
    const more = await this.o.scripts.buryParked(
      rk,
      head,
      buildDeadLetter({ ...facts, sourceKey: this.o.scripts.park(rk), instanceId: this.o.instanceId }),
    );
    this.recordDeadLetter(facts.reason, facts.job, facts.detail);
    if (!more) this.parked.delete(rk);
    return more;
  }

  private recordDeadLetter(reason: DeadLetterReason, job: OutboundJob | undefined, detail: string): void {
    const reasonName = DeadLetterReason[reason] ?? String(reason);
    this.o.metrics.deadLetters.inc({ reason: reasonName });
    this.o.metrics.deliveries.inc({ outcome: "dead_letter", kind: kindLabel(job) });
    this.o.logger.warn(
      { event: "deliverer.dead_letter", partition: this.partition, mid: job?.mid, reason: reasonName, detail },
      "message dead-lettered",
    );
  }

  /**
   * Acknowledges a delivered entry and then releases it; never rejects. The AckBatcher retries Redis errors itself and
   * keeps this partition's acknowledgements in order; a lost lease (FencedError) stops the worker.
   */
  private acknowledgeInBackground(id: string, rk: string): Promise<void> {
    const landed = () => {
      this.acknowledging.delete(acknowledged);
      if (this.lastAckOf.get(rk) === acknowledged) this.lastAckOf.delete(rk);
      this.release(id);
    };
    const acknowledged: Promise<void> = this.ack(id).then(landed, (error: unknown) => {
      this.onTaskError(error, "ack");
      landed();
    });
    this.acknowledging.add(acknowledged);
    this.lastAckOf.set(rk, acknowledged);
    return acknowledged;
  }

  /**
   * Parking, deferring or dead-lettering an entry acknowledges it at once, outside the
   * AckBatcher: the recipient's earlier delivered entries must be acknowledged first, or a crash
   * would repeat an earlier job after a later one was parked.
   */
  private async earlierAcksLanded(rk: string): Promise<void> {
    const previous = this.lastAckOf.get(rk);
    if (!previous) return;
    this.o.acks.hurry();
    await previous;
  }

  /** Acknowledgements are batched with the other partitions': see AckBatcher. */
  private ack(id: string): Promise<void> {
    return this.o.acks.ack(this.o.scripts, id);
  }

  private onTaskError(error: unknown, key: string): void {
    if (error instanceof FencedError) {
      if (!this.stopped) {
        this.o.logger.warn({ event: "deliverer.fenced", partition: this.partition }, "partition lease lost");
        this.o.onFenced();
      }
      return;
    }
    if (error instanceof AckAbandonedError) {
      this.o.logger.warn(
        { event: "deliverer.ack_abandoned", partition: this.partition },
        "stopped before an acknowledgement reached Redis: the entry stays pending and is delivered again",
      );
      return;
    }
    // A Redis error mid-transition: the entry stays pending and is delivered again after a takeover or restart.
    this.o.logger.error(
      { event: "deliverer.task_error", partition: this.partition, lane: key, err: (error as Error)?.message },
      "delivery step failed",
    );
  }

  /** Stops reading and retrying; waits up to `graceMs` for deliveries in flight, then abandons the rest. */
  async stop(graceMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.retries.stop();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const w of this.roomWaiters) w();
    this.roomWaiters = [];
    const reading = this.reader?.stop();
    this.blocking?.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const finished = async () => {
      await this.lanes.idle();
      await Promise.all(this.acknowledging);
    };
    await Promise.race([
      finished(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    await reading;
  }
}
