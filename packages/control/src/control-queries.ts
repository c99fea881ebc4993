import {
  AgentMessageSchema,
  countWallet,
  DEFAULT_DEAD_AFTER_MS,
  type DeadLetter,
  type DeadLetterEntry,
  DeadLetterEntrySchema,
  type DeadLetterRef,
  DeadLetterSchema,
  decodeEnvelope,
  encodeEnvelope,
  enqueueEnvelope,
  type GetWalletResponse,
  GetWalletResponseSchema,
  type InstanceInfo,
  InstanceInfoSchema,
  type KeyName,
  type Keyspace,
  OutboundJobSchema,
  type PartitionStatus,
  PartitionStatusSchema,
  partitionOf,
  QueueFamily,
  type RedisClient,
  WalletCount,
  WalletMessageSchema,
  WalletRouteSchema,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";

const ROLES = ["relay", "deliverer", "shim"] as const;

interface FamilyKeys {
  queue: KeyName;
  deadLetters: KeyName;
  retry?: KeyName;
  lease?: KeyName;
}

const FAMILIES: Record<QueueFamily.INBOUND | QueueFamily.OUTBOUND, FamilyKeys> = {
  [QueueFamily.INBOUND]: { queue: "inboundQueue", deadLetters: "inboundDeadLetters" },
  [QueueFamily.OUTBOUND]: {
    queue: "outboundQueue",
    deadLetters: "outboundDeadLetters",
    retry: "outboundRetrySchedule",
    lease: "outboundLease",
  },
};

export class ControlError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

function familiesOf(family: QueueFamily): (QueueFamily.INBOUND | QueueFamily.OUTBOUND)[] {
  if (family === QueueFamily.INBOUND || family === QueueFamily.OUTBOUND) return [family];
  return [QueueFamily.INBOUND, QueueFamily.OUTBOUND];
}

type GroupInfo = { pending: number; lag: number };

function parseGroups(raw: unknown[], group: string): GroupInfo {
  for (const entry of raw as unknown[][]) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < entry.length; i += 2) fields.set(String(entry[i]), entry[i + 1]);
    if (fields.get("name") === group) {
      return { pending: Number(fields.get("pending") ?? 0), lag: Number(fields.get("lag") ?? 0) };
    }
  }
  return { pending: 0, lag: 0 };
}

/** Where the control API reports what went wrong beside a request's answer (a pino logger fits). */
export interface ControlWarnings {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Reads and repairs queue state for operators; every key comes from the Keyspace. */
export class ControlQueries {
  constructor(
    private readonly client: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly warnings: ControlWarnings = { warn: () => {} },
  ) {}

  async listPartitions(family: QueueFamily): Promise<PartitionStatus[]> {
    const out: PartitionStatus[] = [];
    for (const f of familiesOf(family)) {
      const keys = FAMILIES[f];
      const group = this.keyspace.spec(keys.queue).consumerGroup;
      const count = this.keyspace.partitionCount(keys.queue);
      const statuses = await Promise.all(
        Array.from({ length: count }, async (_, partition) => {
          const queue = this.keyspace.key(keys.queue, { partition });
          // One partition's keys share a slot, so one pipeline per partition works on a Cluster too.
          const pipeline = this.client.pipeline().xlen(queue).xlen(this.keyspace.key(keys.deadLetters, { partition }));
          pipeline.call("XINFO", "GROUPS", queue);
          if (keys.retry) pipeline.zcard(this.keyspace.key(keys.retry, { partition }));
          if (keys.lease) pipeline.get(this.keyspace.key(keys.lease, { partition }));
          const results = (await pipeline.exec()) ?? [];
          const value = (i: number) => (results[i]?.[0] ? undefined : results[i]?.[1]);
          const groups = Array.isArray(value(2)) ? parseGroups(value(2) as unknown[], group) : { pending: 0, lag: 0 };
          return create(PartitionStatusSchema, {
            family: f,
            partition,
            key: queue,
            backlog: BigInt(Number(value(0) ?? 0)),
            deadLetters: BigInt(Number(value(1) ?? 0)),
            pending: BigInt(groups.pending),
            lag: BigInt(groups.lag),
            parkedRecipients: BigInt(keys.retry ? Number(value(3) ?? 0) : 0),
            leaseHolder: keys.lease ? String(value(keys.retry ? 4 : 3) ?? "") : "",
          });
        }),
      );
      out.push(...statuses);
    }
    return out;
  }

  /**
   * Live processes, each once: a stopped or dead member (its heartbeat older than
   * `deadAfterMs`, or 0 as `stopAsDead` marks it) is left out, and a process in
   * several roles (`acapy-bridge all` is relay and deliverer) is one entry, role "all".
   */
  async listInstances(now = Date.now(), deadAfterMs = DEFAULT_DEAD_AFTER_MS) {
    const byId = new Map<string, InstanceInfo>();
    const roles = new Map<string, string[]>();
    const lastHeartbeat: Record<string, bigint> = {};
    for (const role of ROLES) {
      const members = await this.client.zrange(this.keyspace.key("members", { role }), "0", "-1", "WITHSCORES");
      for (let i = 0; i + 1 < members.length; i += 2) {
        const id = members[i] as string;
        const beat = Number(members[i + 1]);
        if (now - beat > deadAfterMs) continue;
        lastHeartbeat[id] = BigInt(Math.max(beat, Number(lastHeartbeat[id] ?? 0)));
        roles.set(id, [...(roles.get(id) ?? []), role]);
        if (byId.has(id)) continue;
        const info = await this.client.getBuffer(this.keyspace.key("instance", { instance: id }));
        byId.set(
          id,
          info ? decodeEnvelope(InstanceInfoSchema, info) : create(InstanceInfoSchema, { instanceId: id, role }),
        );
      }
    }
    const instances = [...byId.values()].map((info) => {
      const held = roles.get(info.instanceId) ?? [];
      const role = held.includes("relay") && held.includes("deliverer") ? "all" : held.join("+") || info.role;
      return { ...info, role };
    });
    return { instances, lastHeartbeatMs: lastHeartbeat, now };
  }

  async listDeadLetters(family: QueueFamily, limit: number): Promise<DeadLetterEntry[]> {
    const entries: DeadLetterEntry[] = [];
    for (const f of familiesOf(family)) {
      const key = FAMILIES[f].deadLetters;
      const field = this.keyspace.spec(key).entryField;
      for (let partition = 0; partition < this.keyspace.partitionCount(key); partition++) {
        const rows = await this.client.xrevrangeBuffer(
          this.keyspace.key(key, { partition }),
          "+",
          "-",
          "COUNT",
          String(limit),
        );
        for (const [id, fields] of rows) {
          const payload = fieldOf(fields, field);
          let deadLetter: DeadLetter;
          try {
            deadLetter = decodeEnvelope(DeadLetterSchema, payload ?? Buffer.alloc(0));
          } catch {
            deadLetter = create(DeadLetterSchema, { mid: "?", detail: "undecodable dead letter" });
          }
          entries.push(create(DeadLetterEntrySchema, { entryId: id.toString(), partition, deadLetter }));
        }
      }
    }
    return entries.slice(0, limit);
  }

  private async readDeadLetter(ref: DeadLetterRef): Promise<{ key: string; deadLetter: DeadLetter } | undefined> {
    const names = FAMILIES[familiesOf(ref.family)[0] as QueueFamily.INBOUND | QueueFamily.OUTBOUND];
    if (ref.family !== QueueFamily.INBOUND && ref.family !== QueueFamily.OUTBOUND) {
      throw new ControlError("dead letter ref needs family INBOUND or OUTBOUND", 3);
    }
    const key = this.keyspace.key(names.deadLetters, { partition: ref.partition });
    const rows = await this.client.xrangeBuffer(key, ref.entryId, ref.entryId);
    const row = rows[0];
    if (!row) return undefined;
    const payload = fieldOf(row[1], this.keyspace.spec(names.deadLetters).entryField);
    return { key, deadLetter: decodeEnvelope(DeadLetterSchema, payload ?? Buffer.alloc(0)) };
  }

  /** Puts dead letters back on the queue they came from (same mid), then removes them from the DLQ. */
  async requeueDeadLetters(refs: DeadLetterRef[]): Promise<number> {
    let requeued = 0;
    for (const ref of refs) {
      const found = await this.readDeadLetter(ref);
      if (!found) continue;
      const original = found.deadLetter.original;
      let stream: string;
      let payload: Uint8Array;
      let entryField: string;
      switch (original.case) {
        case "agentMessage": {
          const p = partitionOf(original.value.recipientKey, this.keyspace.partitionCount("inboundQueue"));
          stream = this.keyspace.key("inboundQueue", { partition: p });
          entryField = this.keyspace.spec("inboundQueue").entryField;
          payload = encodeEnvelope(AgentMessageSchema, original.value);
          break;
        }
        case "outboundJob": {
          const p = partitionOf(original.value.recipientKey, this.keyspace.partitionCount("outboundQueue"));
          stream = this.keyspace.key("outboundQueue", { partition: p });
          entryField = this.keyspace.spec("outboundQueue").entryField;
          payload = encodeEnvelope(OutboundJobSchema, original.value);
          break;
        }
        case "walletMessage": {
          const mailbox = this.keyspace.key("walletMailbox", { recipient: original.value.recipientKey });
          await this.client.rpush(mailbox, Buffer.from(encodeEnvelope(WalletMessageSchema, original.value)));
          // Back in a mailbox: counted like any message stored there, or the mailbox gauge would
          // drop below the truth when the drain takes it out.
          await countWallet(this.client, this.keyspace, WalletCount.MAILBOX_IN, 1, (error, field) =>
            this.warnings.warn(
              { event: "control.wallet_count_failed", count: field, err: error.message },
              "wallet count not updated; the metric is off by one",
            ),
          );
          await this.client.xdel(found.key, ref.entryId);
          requeued++;
          continue;
        }
        default:
          throw new ControlError(`dead letter ${ref.entryId} has no requeueable original`, 9);
      }
      // Written to its queue before it leaves the DLQ: a crash in between duplicates, never loses.
      await enqueueEnvelope(this.client, { stream, entryField, payload, highWaterMark: 0 });
      await this.client.xdel(found.key, ref.entryId);
      requeued++;
    }
    return requeued;
  }

  async dropDeadLetters(refs: DeadLetterRef[]): Promise<number> {
    let dropped = 0;
    for (const ref of refs) {
      const names = FAMILIES[familiesOf(ref.family)[0] as QueueFamily.INBOUND | QueueFamily.OUTBOUND];
      dropped += await this.client.xdel(
        this.keyspace.key(names.deadLetters, { partition: ref.partition }),
        ref.entryId,
      );
    }
    return dropped;
  }

  async getWallet(recipientKey: string, deadAfterMs: number, now = Date.now()): Promise<GetWalletResponse> {
    const [routeBytes, depth] = await Promise.all([
      this.client.getBuffer(this.keyspace.key("walletRoute", { recipient: recipientKey })),
      this.client.llen(this.keyspace.key("walletMailbox", { recipient: recipientKey })),
    ]);
    const route = routeBytes ? decodeEnvelope(WalletRouteSchema, routeBytes) : undefined;
    let relayAlive = false;
    if (route) {
      const beat = await this.client.zscore(this.keyspace.key("members", { role: "relay" }), route.relayId);
      relayAlive = beat !== null && Number(beat) > now - deadAfterMs;
    }
    return create(GetWalletResponseSchema, { route, relayAlive, mailboxDepth: BigInt(depth) });
  }
}

function fieldOf(fields: Buffer[], name: string): Buffer | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if ((fields[i] as Buffer).toString() === name) return fields[i + 1];
  return undefined;
}
