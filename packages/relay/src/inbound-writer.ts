import {
  type AgentMessage,
  AgentMessageSchema,
  encodeEnvelope,
  enqueueInboundEnvelope,
  type InboundBusyReason,
  type InboundEnqueueOutcome,
  type Keyspace,
  partitionOf,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";
import type { RequestOutcome } from "./relay-metrics.js";

/** When a partition refuses a message (all 0: never). */
export interface InboundLimits {
  /** Entries in the partition. */
  highWaterMark: number;
  /** The partition stream's memory in Redis (MEMORY USAGE, sampled). */
  highWaterBytes: number;
  /** Messages one recipient key may have accepted per window once the partition is at half of either mark. */
  recipientCap: number;
  recipientWindowMs: number;
}

/** For what exists only in the relay's hands (a returned reply): refused, it would be lost. */
export const NEVER_REFUSE: InboundLimits = {
  highWaterMark: 0,
  highWaterBytes: 0,
  recipientCap: 0,
  recipientWindowMs: 0,
};

/** The `outcome` label of a refused message, by why its partition refused it. */
export const BUSY_OUTCOME = {
  backlog: "busy",
  bytes: "busy_bytes",
  recipient: "busy_recipient",
} as const satisfies Record<InboundBusyReason, RequestOutcome>;

export const BUSY_DETAIL: Record<InboundBusyReason, string> = {
  backlog: "inbound partition at its high-water mark",
  bytes: "inbound partition at its high-water mark in bytes",
  recipient: "inbound partition filling and this recipient key over its share",
};

export interface WriteResult {
  outcome: InboundEnqueueOutcome;
  partition: number;
  seconds: number;
}

/**
 * Writes AgentMessages to their inbound partition: one atomic script per
 * message (dedup marker + backlog, byte and per-recipient checks + XADD), so a
 * message is either entirely in Redis or not at all.
 */
export class InboundWriter {
  private readonly entryField: string;
  private readonly partitions: number;

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly options: { limits: InboundLimits; dedupWindowMs: number },
  ) {
    this.entryField = keyspace.spec("inboundQueue").entryField;
    this.partitions = keyspace.partitionCount("inboundQueue");
  }

  partitionOf(routingKey: string): number {
    return partitionOf(routingKey, this.partitions);
  }

  /**
   * `digest` (sha256 hex of the body) enables deduplication of byte-identical
   * resends; omit it for entries that must never be deduplicated.
   */
  async write(message: AgentMessage, digest?: string, limits = this.options.limits): Promise<WriteResult> {
    const partition = this.partitionOf(message.recipientKey);
    const started = process.hrtime.bigint();
    const dedup = digest !== undefined && this.options.dedupWindowMs > 0;
    const outcome = await enqueueInboundEnvelope(this.client, {
      stream: this.keyspace.key("inboundQueue", { partition }),
      recipientCountKey: this.keyspace.key("inboundRecipientCount", { partition, recipient: message.recipientKey }),
      seenKey: dedup ? this.keyspace.key("inboundSeen", { partition, digest }) : undefined,
      seenTtlMs: this.options.dedupWindowMs,
      entryField: this.entryField,
      payload: encodeEnvelope(AgentMessageSchema, message),
      ...limits,
    });
    return { outcome, partition, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }

  /** XLEN of every inbound partition (= written and not yet acknowledged). */
  async backlog(): Promise<number[]> {
    return Promise.all(this.keyspace.allPartitions("inboundQueue").map((key) => this.client.xlen(key)));
  }
}

export function agentMessage(fields: Parameters<typeof create<typeof AgentMessageSchema>>[1]): AgentMessage {
  return create(AgentMessageSchema, fields);
}
