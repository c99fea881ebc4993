import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Logger, type Registry, silentLogger } from "@acapy-bridge/operability";
import {
  type AgentEvent,
  autoClaim,
  closeRedisClient,
  createRedisClient,
  DEFAULT_DEAD_AFTER_MS,
  DEFAULT_HEARTBEAT_MS,
  deliveryCounts,
  GroupReader,
  type Keyspace,
  type RedisClient,
  type RedisConnectionConfig,
  type StreamEntry,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { type ControllerEvent, decodeAgentEvent, toControllerEvent } from "./controller-event.js";
import { readDeploymentKeyspace } from "./deployment-keyspace.js";
import { type EventFilter, matchesFilter } from "./event-filter.js";
import { createEventsMetrics, type EventsMetrics } from "./events-metrics.js";
import { PartitionLeases } from "./partition-leases.js";

export interface EventsConsumerOptions {
  redis: RedisConnectionConfig;
  /** The deployment's key prefix (the shim's `prefix`). */
  prefix: string;
  /** The consumer group: one per controller application; its instances share the events. */
  group: string;
  /** This instance's name in the group; a stable name lets a restarted instance finish its own pending events at once. */
  consumer?: string;
  /** Resolves when the event is handled: only then is it acknowledged. Throwing means "try again". */
  handler: (event: ControllerEvent) => Promise<void>;
  filter?: EventFilter;
  /** Where a group that does not exist yet starts: "new" events only (default), or everything the streams still hold. */
  startAt?: "new" | "beginning";
  /** Handler calls per event before it is given up (logged, counted, acknowledged). Default 5. */
  maxAttempts?: number;
  /** Wait before the second attempt; doubles per attempt up to 10 s. Default 250 ms. */
  retryDelayMs?: number;
  /** A pending event whose consumer has been silent this long is taken over by another instance. Default 30 s. */
  claimIdleMs?: number;
  /** Longest blocked read of one partition. Default 2 s. */
  blockMs?: number;
  /** Entries read from a partition at once. Default 16. */
  batchSize?: number;
  /**
   * Keep each ordering key's events in order across instances: each partition is
   * handled by one live instance of the group at a time (a lease), instead of by
   * whichever instance reads next. Default false.
   */
  ordered?: boolean;
  /** ordered: the partition lease's TTL; a dead owner's partitions move on after about this long. Default 10 s. */
  leaseTtlMs?: number;
  /** ordered: how often an instance says it is alive, and after how long without it counts as dead. Defaults 2 s, 10 s. */
  heartbeatMs?: number;
  deadAfterMs?: number;
  logger?: Logger;
  /** Registry for the acapy_bridge_controller_* counters. */
  metrics?: Registry;
  /** Called (after logging) for an event given up; it is acknowledged once this returns. */
  onGiveUp?: (giveUp: GivenUpEvent) => void | Promise<void>;
}

/** An event the consumer stopped trying; its entry stays readable (XRANGE) until the stream is trimmed. */
export interface GivenUpEvent {
  stream: string;
  entryId: string;
  reason: "attempts_exhausted" | "undecodable";
  attempts: number;
  error: Error;
  event: ControllerEvent | undefined;
}

interface Partition {
  readonly index: number;
  readonly stream: string;
  readonly reading: RedisClient;
  readonly reader: GroupReader;
  /** Batches of this partition run one after the other: the order in which the group handed them out. */
  queue: Promise<void>;
  /** This instance no longer handles the partition (stopping, or its lease moved on). */
  stopped: boolean;
}

const MAX_RETRY_DELAY_MS = 10_000;

export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

/**
 * Reads ACA-Py's events from every events partition as one consumer of a
 * consumer group. Within one instance, each partition's events are handled one
 * at a time in stream order (a failed handler is retried before the next event
 * of the partition); partitions run in parallel. An event is acknowledged only
 * after its handler resolved. Events left pending by a silent instance are
 * taken over (XAUTOCLAIM) after `claimIdleMs`; while a handler runs, this
 * instance keeps its event's idle time low so nobody takes it over meanwhile.
 * `ordered` gives each partition to one instance at a time instead, so one
 * ordering key's events keep their order across instances too.
 */
export class EventsConsumer {
  readonly consumer: string;
  private readonly o: Required<
    Pick<EventsConsumerOptions, "maxAttempts" | "retryDelayMs" | "claimIdleMs" | "blockMs" | "batchSize" | "startAt">
  >;
  private readonly logger: Logger;
  private readonly metrics: EventsMetrics;
  private client: RedisClient | undefined;
  private readonly partitions = new Map<number, Partition>();
  private leases: PartitionLeases | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private stopping = false;
  private entryField = "";

  constructor(private readonly options: EventsConsumerOptions) {
    this.consumer = options.consumer ?? defaultConsumerName();
    this.o = {
      maxAttempts: options.maxAttempts ?? 5,
      retryDelayMs: options.retryDelayMs ?? 250,
      claimIdleMs: options.claimIdleMs ?? 30_000,
      blockMs: options.blockMs ?? 2_000,
      batchSize: options.batchSize ?? 16,
      startAt: options.startAt ?? "new",
    };
    if (!options.group) throw new Error("EventsConsumer needs a consumer group name");
    if (this.o.maxAttempts < 1) throw new Error(`maxAttempts must be at least 1, got ${this.o.maxAttempts}`);
    if (this.o.claimIdleMs < 100) throw new Error(`claimIdleMs must be at least 100 ms, got ${this.o.claimIdleMs}`);
    this.logger = (options.logger ?? silentLogger()).child({ group: options.group, consumer: this.consumer });
    this.metrics = createEventsMetrics(options.metrics, options.group);
  }

  /** Creates the group on every partition (where missing) and starts reading; resolves once reading has begun. */
  async start(): Promise<void> {
    const client = createRedisClient(
      { ...this.options.redis, connectionName: `controller-${this.consumer}` },
      "commands",
    );
    this.client = client;
    let keyspace: Keyspace;
    try {
      await waitUntilReady(client);
      keyspace = await readDeploymentKeyspace(client, this.options.prefix);
      // ordered: the group names the lease keys; a name a key cannot hold fails here, not at every lease attempt.
      if (this.options.ordered) keyspace.key("eventsLease", { partition: 0, role: this.options.group });
    } catch (error) {
      this.client = undefined;
      await closeRedisClient(client);
      throw error;
    }
    this.entryField = keyspace.spec("events").entryField;
    const count = keyspace.partitionCount("events");
    for (let index = 0; index < count; index++) {
      await this.createGroup(client, keyspace.key("events", { partition: index }));
    }
    if (this.options.ordered) {
      this.leases = new PartitionLeases({
        client,
        keyspace,
        group: this.options.group,
        consumer: this.consumer,
        leaseTtlMs: this.options.leaseTtlMs ?? 10_000,
        heartbeatMs: this.options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
        deadAfterMs: this.options.deadAfterMs ?? DEFAULT_DEAD_AFTER_MS,
        logger: this.logger,
        acquired: (index) => this.takeOverPartition(keyspace, index),
        released: (index) => this.stopPartition(index),
      });
      await this.leases.start();
    } else {
      for (let index = 0; index < count; index++) this.startPartition(keyspace, index).reader.start();
      const claimEveryMs = Math.max(50, Math.floor(this.o.claimIdleMs / 2));
      this.claimTimer = setInterval(() => {
        this.claiming ??= this.claimSilentConsumersEvents().finally(() => {
          this.claiming = undefined;
        });
      }, claimEveryMs);
    }
    this.logger.info(
      {
        event: "controller.events_started",
        partitions: count,
        startAt: this.o.startAt,
        ordered: !!this.options.ordered,
      },
      `consuming events from ${count} partitions`,
    );
  }

  /** The partitions this instance handles now (all of them unless `ordered`). */
  get handledPartitions(): number[] {
    return [...this.partitions.keys()].sort((a, b) => a - b);
  }

  private startPartition(keyspace: Keyspace, index: number): Partition {
    const stream = keyspace.key("events", { partition: index });
    const reading = createRedisClient(
      { ...this.options.redis, connectionName: `controller-${this.consumer}-e${index}` },
      "blocking",
    );
    const partition: Partition = {
      index,
      stream,
      reading,
      queue: Promise.resolve(),
      stopped: false,
      reader: new GroupReader({
        client: reading,
        stream,
        group: this.options.group,
        consumer: this.consumer,
        entryField: this.entryField,
        count: this.o.batchSize,
        blockMs: this.o.blockMs,
        onBatch: (entries) => this.enqueue(partition, entries, false),
        onError: (error) =>
          this.logger.warn({ event: "controller.read_failed", stream, err: error.message }, "reading events failed"),
      }),
    };
    this.partitions.set(index, partition);
    return partition;
  }

  /**
   * ordered: a partition this instance now owns. The previous owner has stopped
   * (it released the lease after its last event, or the lease expired), so its
   * pending events are taken over at once and handled first, oldest first.
   */
  private async takeOverPartition(keyspace: Keyspace, index: number): Promise<void> {
    const partition = this.startPartition(keyspace, index);
    await this.claimAndHandle(partition, 0);
    if (!partition.stopped) partition.reader.start();
  }

  private async stopPartition(index: number): Promise<void> {
    const partition = this.partitions.get(index);
    if (!partition) return;
    partition.stopped = true;
    await partition.reader.stop();
    await partition.queue;
    await closeRedisClient(partition.reading);
    this.partitions.delete(index);
  }

  /**
   * Stops reading. The event in hand finishes (or, while waiting to retry, stays
   * pending); events read but not handled stay pending for another instance.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.claimTimer) clearInterval(this.claimTimer);
    await this.claiming;
    await this.leases?.stop();
    await Promise.all(this.handledPartitions.map((index) => this.stopPartition(index)));
    if (this.client) await closeRedisClient(this.client);
  }

  private async createGroup(client: RedisClient, stream: string): Promise<void> {
    try {
      await client.xgroup("CREATE", stream, this.options.group, this.o.startAt === "new" ? "$" : "0", "MKSTREAM");
    } catch (error) {
      if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
    }
  }

  private enqueue(partition: Partition, entries: StreamEntry[], claimed: boolean): Promise<void> {
    // The chain never rejects, or every later batch of the partition would be skipped.
    partition.queue = partition.queue
      .then(() => this.handleBatch(partition, entries, claimed))
      .catch((error: Error) => {
        this.logger.warn(
          { event: "controller.batch_failed", stream: partition.stream, err: error.message },
          "events left pending; they are read again",
        );
        partition.reader.rereadPending();
      });
    return partition.queue;
  }

  private async handleBatch(partition: Partition, entries: StreamEntry[], claimed: boolean): Promise<void> {
    const deliveries = claimed ? await this.deliveriesOf(partition, entries) : undefined;
    for (const entry of entries) {
      if (this.stopping || partition.stopped) return;
      try {
        await this.handleEntry(partition, entry, deliveries?.get(entry.id) ?? 1);
      } catch (error) {
        // Only Redis errors get here (acknowledging); the entry stays pending and is read again.
        this.logger.warn(
          {
            event: "controller.ack_failed",
            stream: partition.stream,
            entryId: entry.id,
            err: (error as Error).message,
          },
          "event handled but not acknowledged; it will be handled again",
        );
        partition.reader.rereadPending();
        return;
      }
    }
  }

  private async deliveriesOf(partition: Partition, entries: StreamEntry[]): Promise<Map<string, number>> {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (!first || !last) return new Map();
    return deliveryCounts(this.commands, partition.stream, this.options.group, first.id, last.id, entries.length);
  }

  private get commands(): RedisClient {
    if (!this.client) throw new Error("EventsConsumer is not started");
    return this.client;
  }

  private async handleEntry(partition: Partition, entry: StreamEntry, delivery: number): Promise<void> {
    if (!entry.payload) {
      // Trimmed from the stream while pending: nothing left to hand out.
      this.metrics.outcome("trimmed");
      await this.ack(partition, entry.id);
      return;
    }
    let agentEvent: AgentEvent;
    let event: ControllerEvent;
    try {
      agentEvent = decodeAgentEvent(entry.payload);
      event = toControllerEvent(agentEvent, { entryId: entry.id, partition: partition.index, attempt: delivery });
    } catch (error) {
      await this.giveUp(partition, entry.id, "undecodable", 0, error as Error, undefined);
      return;
    }
    if (!matchesFilter(this.options.filter, agentEvent)) {
      this.metrics.outcome("filtered");
      await this.ack(partition, entry.id);
      return;
    }
    // A delivery count above the limit means instances died handling it: a poison event.
    let attempt = delivery;
    let lastError: Error | undefined;
    while (attempt <= this.o.maxAttempts) {
      const outcome = await this.attempt(partition, entry.id, { ...event, attempt });
      if (outcome === undefined) {
        this.metrics.outcome("handled");
        await this.ack(partition, entry.id);
        return;
      }
      lastError = outcome;
      this.metrics.outcome("failed_attempt");
      this.logger.warn(
        {
          event: "controller.handler_failed",
          stream: partition.stream,
          entryId: entry.id,
          mid: event.mid,
          topic: event.topic,
          attempt,
          err: outcome.message,
        },
        "event handler failed",
      );
      if (attempt === this.o.maxAttempts) break;
      const delay = Math.min(this.o.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
      if (!(await this.waitUnlessStopping(partition, entry.id, delay))) return;
      attempt++;
    }
    await this.giveUp(
      partition,
      entry.id,
      "attempts_exhausted",
      Math.min(attempt, this.o.maxAttempts),
      lastError ?? new Error(`delivered ${delivery} times without being acknowledged (instances died handling it)`),
      event,
    );
  }

  /** One handler call, keeping the entry's idle time low meanwhile; the error, or undefined on success. */
  private async attempt(partition: Partition, entryId: string, event: ControllerEvent): Promise<Error | undefined> {
    const keepalive = this.keepClaimed(partition, entryId);
    try {
      await this.options.handler(event);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    } finally {
      clearInterval(keepalive);
    }
  }

  /** Re-claims the entry for this consumer (XCLAIM JUSTID resets its idle time) while it is being handled. */
  private keepClaimed(partition: Partition, entryId: string): NodeJS.Timeout {
    return setInterval(
      () => {
        const client = this.commands;
        // ioredis's typings of XCLAIM want every option at once; the command takes them one by one.
        const xclaim = client.xclaim as unknown as (...args: (string | number)[]) => Promise<unknown>;
        xclaim
          .call(client, partition.stream, this.options.group, this.consumer, 0, entryId, "JUSTID")
          .catch((error: Error) =>
            this.logger.warn({ event: "controller.keepalive_failed", entryId, err: error.message }),
          );
      },
      Math.max(50, Math.floor(this.o.claimIdleMs / 3)),
    );
  }

  private async waitUnlessStopping(partition: Partition, entryId: string, ms: number): Promise<boolean> {
    const keepalive = this.keepClaimed(partition, entryId);
    const deadline = Date.now() + ms;
    try {
      while (Date.now() < deadline) {
        if (this.stopping || partition.stopped) return false;
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, deadline - Date.now())));
      }
      return !this.stopping && !partition.stopped;
    } finally {
      clearInterval(keepalive);
    }
  }

  private async giveUp(
    partition: Partition,
    entryId: string,
    reason: GivenUpEvent["reason"],
    attempts: number,
    error: Error,
    event: ControllerEvent | undefined,
  ): Promise<void> {
    this.metrics.outcome(reason === "undecodable" ? "undecodable" : "given_up");
    this.logger.error(
      {
        event: "controller.event_given_up",
        reason,
        stream: partition.stream,
        entryId,
        mid: event?.mid,
        topic: event?.topic,
        attempts,
        err: error.message,
      },
      `event given up (${reason}); it stays readable at ${partition.stream} ${entryId} until the stream is trimmed`,
    );
    try {
      await this.options.onGiveUp?.({ stream: partition.stream, entryId, reason, attempts, error, event });
    } catch (hookError) {
      this.logger.error({ event: "controller.on_give_up_failed", entryId, err: (hookError as Error).message });
    }
    await this.ack(partition, entryId);
  }

  /**
   * XACK only, never XDEL: the events streams are a shared log that every
   * controller group reads; the shim trims them by length.
   */
  private async ack(partition: Partition, entryId: string): Promise<void> {
    await this.commands.xack(partition.stream, this.options.group, entryId);
  }

  private reportTrimmed(partition: Partition, entryIds: string[]): void {
    if (entryIds.length === 0) return;
    this.metrics.outcome("trimmed", entryIds.length);
    this.logger.error(
      { event: "controller.events_trimmed", stream: partition.stream, entryIds },
      "pending events were trimmed from the stream before they were handled: raise events.stream_max_length",
    );
  }

  /** Takes over events pending under consumers silent for claimIdleMs, partition by partition. */
  private async claimSilentConsumersEvents(): Promise<void> {
    for (const partition of this.partitions.values()) {
      if (this.stopping) return;
      try {
        await this.claimAndHandle(partition, this.o.claimIdleMs);
      } catch (error) {
        this.logger.warn({ event: "controller.claim_failed", stream: partition.stream, err: (error as Error).message });
      }
    }
  }

  /** Claims (XAUTOCLAIM) the partition's entries pending at least minIdleMs under any consumer, and handles them. */
  private async claimAndHandle(partition: Partition, minIdleMs: number): Promise<void> {
    let cursor = "0-0";
    do {
      const result = await autoClaim(this.commands, {
        stream: partition.stream,
        group: this.options.group,
        consumer: this.consumer,
        minIdleMs,
        cursor,
        count: this.o.batchSize,
        entryField: this.entryField,
      });
      cursor = result.cursor;
      this.reportTrimmed(partition, result.deletedIds);
      if (result.entries.length > 0) {
        this.metrics.claimed(result.entries.length);
        this.logger.info(
          { event: "controller.events_claimed", stream: partition.stream, count: result.entries.length, minIdleMs },
          "took over pending events",
        );
        await this.enqueue(partition, result.entries, true);
      }
    } while (cursor !== "0-0" && !this.stopping && !partition.stopped);
  }
}
