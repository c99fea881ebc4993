import type { Logger } from "@acapy-bridge/operability";
import {
  DeadLetterReason,
  decodeEnvelope,
  EnvelopeDecodeError,
  encodeEnvelope,
  ensureGroup,
  GroupReader,
  type OutboundJob,
  type ParkedJob,
  ParkedJobSchema,
  pendingOf,
  type RedisClient,
  type StreamEntry,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import { AckAbandonedError, type AckBatcher } from "./ack-batcher.js";
import { AckOrdering } from "./ack-ordering.js";
import { buildDeadLetter } from "./dead-letters.js";
import type { DelivererMetrics } from "./deliverer-metrics.js";
import type { DelivererConfig } from "./deliverer-options.js";
import type { EndpointDelivery } from "./endpoint-delivery.js";
import { EntryOutcomes } from "./entry-outcome.js";
import { type AttemptOutcome, retryDelayMs, unsendable } from "./failure-policy.js";
import { laneKeyOf } from "./lane-key.js";
import { decodeOutboundJob } from "./outbound-job-decoder.js";
import { FencedError, type PartitionScripts } from "./partition-scripts.js";
import { claimAllPending, readPendingEntry } from "./pending-entries.js";
import { ReadBackpressure } from "./read-backpressure.js";
import { RecipientLanes } from "./recipient-lanes.js";
import { RetryScheduler } from "./retry-scheduler.js";
import { StrandedEntrySweep } from "./stranded-entry-sweep.js";

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
 *
 * Here is each entry's way (read, then delivered, parked, retried or buried);
 * the rest is in its collaborators: `ReadBackpressure` (entries held, reading
 * paused while the buffer is full), `StrandedEntrySweep` (pending entries
 * nothing holds), `AckOrdering` (a recipient's acknowledgements in order),
 * `EntryOutcomes` (metrics and log lines of what became of each job).
 */
export class PartitionWorker {
  private readonly lanes: RecipientLanes;
  private readonly retries: RetryScheduler;
  /**
   * Recipients with a park list in Redis, or that may have one: a park whose reply was lost
   * leaves it unknown, and `admit` (atomic) finds out. Only this owner changes park lists, one lane at a time.
   */
  private parked = new Set<string>();
  /** Entry ids held in memory (queued in a lane or in flight), and the pause on reading when full. */
  private readonly held: ReadBackpressure;
  private readonly strandedSweep: StrandedEntrySweep;
  private readonly ackOrder: AckOrdering;
  private readonly outcomes: EntryOutcomes;
  /** Recipients with a drain queued in their lane. */
  private readonly draining = new Set<string>();
  private reader: GroupReader | undefined;
  private blocking: RedisClient | undefined;
  private stopped = false;

  constructor(private readonly o: PartitionWorkerOptions) {
    const partition = o.scripts.partition;
    this.lanes = new RecipientLanes((error, key) => this.onTaskError(error, key));
    this.held = new ReadBackpressure({
      partition,
      buffer: o.config.partitionBuffer,
      lanes: this.lanes,
      logger: o.logger,
      metrics: o.metrics,
    });
    this.strandedSweep = new StrandedEntrySweep({
      scripts: o.scripts,
      commands: o.commands,
      instanceId: o.instanceId,
      logger: o.logger,
      metrics: o.metrics,
      intervalMs: o.strandedSweepMs ?? STRANDED_SWEEP_MS,
      minIdleMs: o.strandedIdleMs ?? Math.max(STRANDED_IDLE_MS, 2 * o.config.leaseTtlMs),
      isHeld: (id) => this.held.has(id),
      isStopped: () => this.stopped,
      redeliver: (entry) => this.onBatch([entry]),
      onError: (error) => this.onTaskError(error, "stranded-sweep"),
    });
    this.ackOrder = new AckOrdering(o.acks, o.scripts, (error) => this.onTaskError(error, "ack"));
    this.outcomes = new EntryOutcomes(partition, o.metrics, o.logger);
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
    // The lease proves the previous owner has stopped: take its pending entries at once.
    const claimed = await claimAllPending(this.o, () => this.stopped);
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
    this.strandedSweep.start();
    this.o.logger.info(
      { event: "deliverer.partition_started", partition: this.partition, claimed, parked: this.parked.size },
      `delivering outbound partition ${this.partition}`,
    );
  }

  /** Entries handed out more than `maxDeliveries` times go to the dead letters as poison. */
  private async buryPoison(): Promise<void> {
    const { scripts, commands, instanceId, config } = this.o;
    const pending = await pendingOf(commands, scripts.stream, scripts.group, instanceId, 10_000);
    for (const p of pending) {
      if (p.deliveries <= config.maxDeliveries || this.stopped) continue;
      const payload = (await readPendingEntry(this.o, p.id))?.payload;
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
      this.held.hold(id);
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
    await this.held.room();
  }

  private release(id: string): void {
    this.held.release(id);
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
    await this.ackOrder.earlierAcksLanded(rk);
    const queued = create(ParkedJobSchema, { attempts: 0, job });
    const verdict = await this.o.scripts.admit(id, rk, encodeEnvelope(ParkedJobSchema, queued));
    if (verdict === "PARKED") {
      this.outcomes.parked(job);
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
    this.outcomes.delivered(job, 1);
    // The recipient's next job does not wait for this acknowledgement: the endpoint has this
    // one, and the AckBatcher takes acknowledgements to Redis in order, so a redelivery after
    // a crash repeats the recipient's jobs in their order.
    return { acknowledged: this.ackOrder.acknowledgeInBackground(id, rk, () => this.release(id)) };
  }

  private async buryExpired(id: string, job: OutboundJob, rk: string): Promise<undefined> {
    await this.ackOrder.earlierAcksLanded(rk);
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
    await this.ackOrder.earlierAcksLanded(rk);
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
    this.outcomes.retryScheduled(job);
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
        this.outcomes.delivered(job, attempts);
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
      this.outcomes.retryScheduled(job);
      return;
    }
  }

  private policy() {
    const c = this.o.config;
    return { baseMs: c.backoffBaseMs, capMs: c.backoffCapMs, maxRetryAfterMs: c.maxRetryAfterMs };
  }

  private attempt(job: OutboundJob): Promise<AttemptOutcome> {
    const ended = this.outcomes.attemptStarted(job);
    let attempting: Promise<AttemptOutcome>;
    try {
      attempting = this.o.delivery.deliver(job);
    } catch (error) {
      attempting = Promise.reject(error);
    }
    return attempting.then(
      (outcome) => {
        ended();
        if (!outcome.ok && outcome.refusedTarget)
          this.outcomes.targetRefused(job, outcome.refusedTarget, outcome.detail);
        return outcome;
      },
      (error: unknown) => {
        ended();
        // Not a Redis error: thrown up, processEntryPatiently would retry it in place for ever.
        this.o.logger.error(
          { event: "deliverer.send_threw", partition: this.partition, mid: job.mid, err: (error as Error)?.message },
          "the transport threw instead of answering; dead-lettering the job",
        );
        return unsendable(error);
      },
    );
  }

  private async buryEntry(
    id: string,
    facts: Omit<Parameters<typeof buildDeadLetter>[0], "sourceKey" | "instanceId">,
  ): Promise<void> {
    await this.o.scripts.buryEntry(
      id,
      buildDeadLetter({ ...facts, sourceKey: this.o.scripts.stream, instanceId: this.o.instanceId }),
    );
    this.outcomes.deadLettered(facts.reason, facts.job, facts.detail);
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
    this.outcomes.deadLettered(facts.reason, facts.job, facts.detail);
    if (!more) this.parked.delete(rk);
    return more;
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
    this.strandedSweep.stop();
    this.held.stop();
    const reading = this.reader?.stop();
    this.blocking?.disconnect();
    let timer: NodeJS.Timeout | undefined;
    const finished = async () => {
      await this.lanes.idle();
      await this.ackOrder.allLanded();
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
