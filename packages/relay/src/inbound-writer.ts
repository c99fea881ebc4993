import {
  type AgentMessage,
  AgentMessageSchema,
  type EnqueueOutcome,
  encodeEnvelope,
  enqueueEnvelope,
  type Keyspace,
  partitionOf,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";

export interface WriteResult {
  outcome: EnqueueOutcome;
  partition: number;
  seconds: number;
}

/**
 * Writes AgentMessages to their inbound partition: one atomic script per
 * message (dedup marker + backlog check + XADD), so a message is either
 * entirely in Redis or not at all.
 */
export class InboundWriter {
  private readonly entryField: string;
  private readonly partitions: number;

  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly options: { highWaterMark: number; dedupWindowMs: number },
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
  async write(
    message: AgentMessage,
    digest?: string,
    highWaterMark = this.options.highWaterMark,
  ): Promise<WriteResult> {
    const partition = this.partitionOf(message.recipientKey);
    const started = process.hrtime.bigint();
    const dedup = digest !== undefined && this.options.dedupWindowMs > 0;
    const outcome = await enqueueEnvelope(this.client, {
      stream: this.keyspace.key("inboundQueue", { partition }),
      seenKey: dedup ? this.keyspace.key("inboundSeen", { partition, digest }) : undefined,
      seenTtlMs: this.options.dedupWindowMs,
      entryField: this.entryField,
      payload: encodeEnvelope(AgentMessageSchema, message),
      highWaterMark,
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
