import { lua } from "../gen/lua_scripts.js";
import { BLOCKED_READ_PATIENCE_MS, type RedisClient } from "./connection.js";

/** What happened to an envelope offered to a work stream. */
export type EnqueueOutcome =
  | { status: "queued"; entryId: string }
  | { status: "duplicate" }
  | { status: "busy"; backlog: number };

export interface EnqueueRequest {
  stream: string;
  /** Dedup marker in the stream's slot; omit to skip deduplication. */
  seenKey?: string | undefined;
  seenTtlMs?: number;
  entryField: string;
  payload: Uint8Array;
  /** Refuse (outcome "busy") when the backlog has reached this; 0 = unbounded. */
  highWaterMark: number;
}

/** Appends one envelope atomically with its dedup marker and backlog check. */
export async function enqueueEnvelope(client: RedisClient, request: EnqueueRequest): Promise<EnqueueOutcome> {
  const reply = await lua.enqueue(client, {
    stream: request.stream,
    seen: request.seenKey || undefined,
    entryField: request.entryField,
    envelope: request.payload,
    highWaterMark: request.highWaterMark,
    seenTtlMs: request.seenTtlMs ?? 0,
  });
  switch (reply[0]) {
    case "OK":
      return { status: "queued", entryId: reply[1] };
    case "DUP":
      return { status: "duplicate" };
    case "BUSY":
      return { status: "busy", backlog: Number(reply[1]) };
    default:
      throw new Error(`enqueue script returned ${JSON.stringify(reply satisfies never)}`);
  }
}

/** Why an inbound message was refused (`busy`): its partition full in entries or bytes, or its recipient over its share. */
export type InboundBusyReason = "backlog" | "bytes" | "recipient";

export type InboundEnqueueOutcome =
  | { status: "queued"; entryId: string }
  | { status: "duplicate" }
  | { status: "busy"; reason: InboundBusyReason; amount: number };

export interface InboundEnqueueRequest extends EnqueueRequest {
  /** The recipient's count key in the stream's slot (`inboundRecipientCount`). */
  recipientCountKey: string;
  /** Refuse when the stream's memory (MEMORY USAGE, sampled) has reached this; 0 = unbounded. */
  highWaterBytes: number;
  /** Messages one recipient key may have accepted per window once the partition is at half of either mark; 0 = none. */
  recipientCap: number;
  recipientWindowMs: number;
}

/** Appends one inbound message atomically with its dedup marker, backlog, byte and per-recipient checks. */
export async function enqueueInboundEnvelope(
  client: RedisClient,
  request: InboundEnqueueRequest,
): Promise<InboundEnqueueOutcome> {
  const reply = await lua.inboundEnqueue(client, {
    stream: request.stream,
    recipientCount: request.recipientCountKey,
    seen: request.seenKey || undefined,
    entryField: request.entryField,
    envelope: request.payload,
    highWaterMark: request.highWaterMark,
    highWaterBytes: request.highWaterBytes,
    recipientCap: request.recipientCap,
    recipientWindowMs: request.recipientWindowMs,
    seenTtlMs: request.seenTtlMs ?? 0,
  });
  switch (reply[0]) {
    case "OK":
      return { status: "queued", entryId: reply[1] };
    case "DUP":
      return { status: "duplicate" };
    case "BUSY":
      return { status: "busy", reason: "backlog", amount: Number(reply[1]) };
    case "BUSY_BYTES":
      return { status: "busy", reason: "bytes", amount: Number(reply[1]) };
    case "BUSY_RECIPIENT":
      return { status: "busy", reason: "recipient", amount: Number(reply[1]) };
    default:
      throw new Error(`inbound_enqueue script returned ${JSON.stringify(reply satisfies never)}`);
  }
}

/** One stream entry; `payload` is absent when the entry was deleted while pending. */
export interface StreamEntry {
  id: string;
  payload: Buffer | undefined;
}

type RawEntry = [Buffer, Buffer[] | null];

function toEntries(raw: RawEntry[], entryField: string): StreamEntry[] {
  return raw.map(([id, fields]) => {
    let payload: Buffer | undefined;
    if (fields) {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if ((fields[i] as Buffer).toString() === entryField) {
          payload = fields[i + 1];
          break;
        }
      }
    }
    return { id: id.toString(), payload };
  });
}

/** Creates the consumer group (and the stream) unless it exists. */
export async function ensureGroup(client: RedisClient, stream: string, group: string): Promise<void> {
  try {
    await client.xgroup("CREATE", stream, group, "0", "MKSTREAM");
  } catch (error) {
    if (!String((error as Error).message).includes("BUSYGROUP")) throw error;
  }
}

export interface ReadGroupRequest {
  stream: string;
  group: string;
  consumer: string;
  entryField: string;
  count: number;
  /** Block up to this long for new entries; 0 or undefined = do not block. */
  blockMs?: number | undefined;
  /** ">" for new entries, or an id to re-read this consumer's own pending entries after it. */
  after: string;
}

/**
 * A read on a blocking connection outlived the client's patience: ioredis gave up
 * and will discard its reply, but Redis may have made entries pending under this
 * consumer with it. The caller re-reads its own pending entries (GroupReader does).
 */
export class ReadGaveUpError extends Error {
  constructor(stream: string, waitedMs: number) {
    super(`the read of ${stream} got no reply in ${waitedMs} ms; its entries may be pending under this consumer`);
    this.name = "ReadGaveUpError";
  }
}

/** XREADGROUP for one stream, entries decoded to their payload field. */
export async function readGroup(client: RedisClient, request: ReadGroupRequest): Promise<StreamEntry[]> {
  const args: (string | number)[] = ["GROUP", request.group, request.consumer, "COUNT", request.count];
  const blockMs = request.blockMs && request.after === ">" ? request.blockMs : 0;
  if (blockMs) args.push("BLOCK", blockMs);
  args.push("STREAMS", request.stream, request.after);
  const started = Date.now();
  const reply = (await (client.xreadgroupBuffer as (...a: (string | number)[]) => Promise<unknown>)(...args)) as
    | [Buffer, RawEntry[]][]
    | null;
  if (!reply) {
    // Redis answers a read of pending entries with an array, never nil, and a blocked
    // read with nil when BLOCK ran out; a nil long after that is the client giving up.
    const waitedMs = Date.now() - started;
    const gaveUp = request.after !== ">" || (blockMs > 0 && waitedMs >= blockMs + BLOCKED_READ_PATIENCE_MS / 2);
    if (gaveUp) throw new ReadGaveUpError(request.stream, waitedMs);
    return [];
  }
  if (reply.length === 0) return [];
  return toEntries((reply[0] as [Buffer, RawEntry[]])[1], request.entryField);
}

/** Acknowledges and deletes entries (XLEN stays equal to the backlog). */
export async function ackEntries(
  client: RedisClient,
  stream: string,
  group: string,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  return lua.ack(client, { stream, group, ids });
}

export interface BuryRequest {
  stream: string;
  deadLetterStream: string;
  group: string;
  entryId: string;
  entryField: string;
  deadLetter: Uint8Array;
  /** Approximate cap on the dead-letter stream; 0 = none. */
  deadLetterCap: number;
}

/** Moves a pending entry to the dead-letter stream; returns the dead letter's id. */
export async function buryEntry(client: RedisClient, request: BuryRequest): Promise<string> {
  return lua.bury(client, {
    stream: request.stream,
    deadLetters: request.deadLetterStream,
    group: request.group,
    entryId: request.entryId,
    entryField: request.entryField,
    deadLetter: request.deadLetter,
    cap: request.deadLetterCap,
  });
}

export interface ClaimResult {
  cursor: string;
  entries: StreamEntry[];
  /** Ids that were pending but had been deleted from the stream. */
  deletedIds: string[];
}

interface AutoClaimRequest {
  stream: string;
  group: string;
  consumer: string;
  minIdleMs: number;
  cursor: string;
  count: number;
}

/**
 * XAUTOCLAIM through ioredis's named command (not call/callBuffer): ioredis drops the
 * command name of call/callBuffer when it auto-pipelines them.
 */
function xautoclaim(
  client: RedisClient,
  variant: "xautoclaim" | "xautoclaimBuffer",
  r: AutoClaimRequest,
  ...tail: string[]
): Promise<unknown> {
  type NamedCommand = (...args: (string | number)[]) => Promise<unknown>;
  const command = (client as unknown as Record<typeof variant, NamedCommand>)[variant];
  return command.call(client, r.stream, r.group, r.consumer, r.minIdleMs, r.cursor, "COUNT", r.count, ...tail);
}

/** One XAUTOCLAIM step; follow `cursor` until it is "0-0". */
export async function autoClaim(
  client: RedisClient,
  request: AutoClaimRequest & { entryField: string },
): Promise<ClaimResult> {
  const reply = (await xautoclaim(client, "xautoclaimBuffer", request)) as [Buffer, RawEntry[], Buffer[]?];
  return {
    cursor: reply[0].toString(),
    entries: toEntries(reply[1], request.entryField),
    deletedIds: (reply[2] ?? []).map((b) => b.toString()),
  };
}

export interface ClaimedIds {
  cursor: string;
  /** Ids now pending under the claiming consumer (their entries not read). */
  ids: string[];
  /** Ids that were pending but had been deleted from the stream (Redis dropped them from the pending list). */
  deletedIds: string[];
}

/**
 * One XAUTOCLAIM ... JUSTID step; follow `cursor` until it is "0-0". JUSTID leaves the
 * entries' delivery counters alone: taking an entry over is not handing it out, and a
 * counter that grew with every takeover would make a healthy entry look like poison.
 */
export async function autoClaimIds(client: RedisClient, request: AutoClaimRequest): Promise<ClaimedIds> {
  const reply = (await xautoclaim(client, "xautoclaim", request, "JUSTID")) as [string, string[], string[]?];
  return { cursor: String(reply[0]), ids: reply[1].map(String), deletedIds: (reply[2] ?? []).map(String) };
}

/** Pending entries of one consumer, with their delivery counts. */
export async function pendingOf(
  client: RedisClient,
  stream: string,
  group: string,
  consumer: string,
  count: number,
): Promise<{ id: string; idleMs: number; deliveries: number }[]> {
  const rows = (await client.xpending(stream, group, "-", "+", count, consumer)) as [string, string, number, number][];
  return rows.map(([id, , idleMs, deliveries]) => ({ id, idleMs: Number(idleMs), deliveries: Number(deliveries) }));
}

/** Delivery counts of given pending entries (any consumer). */
export async function deliveryCounts(
  client: RedisClient,
  stream: string,
  group: string,
  fromId: string,
  toId: string,
  count: number,
): Promise<Map<string, number>> {
  const rows = (await client.xpending(stream, group, fromId, toId, count)) as [string, string, number, number][];
  return new Map(rows.map(([id, , , deliveries]) => [id, Number(deliveries)]));
}
