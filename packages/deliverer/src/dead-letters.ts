import {
  type DeadLetter,
  type DeadLetterReason,
  DeadLetterSchema,
  decodeEnvelope,
  encodeEnvelope,
  type Keyspace,
  type OutboundJob,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { create } from "@bufbuild/protobuf";

export interface DeadLetterFacts {
  reason: DeadLetterReason;
  detail: string;
  attempts: number;
  sourceKey: string;
  instanceId: string;
  /** The job as it was queued; for an undecodable entry, its raw bytes instead. */
  job?: OutboundJob | undefined;
  undecodable?: Uint8Array | undefined;
  /** The mid when the job itself is unknown (undecodable entries use the entry id). */
  mid?: string | undefined;
  now?: number;
}

/** A DeadLetter envelope that keeps the original job, so it can be requeued with the same mid. */
export function buildDeadLetter(facts: DeadLetterFacts): Uint8Array {
  const letter = create(DeadLetterSchema, {
    mid: facts.job?.mid || facts.mid || "unknown",
    reason: facts.reason,
    detail: facts.detail.slice(0, 1000),
    attempts: facts.attempts,
    deadAtMs: BigInt(facts.now ?? Date.now()),
    sourceKey: facts.sourceKey,
    instanceId: facts.instanceId,
    original: facts.job
      ? { case: "outboundJob", value: facts.job }
      : { case: "undecodable", value: facts.undecodable ?? new Uint8Array() },
  });
  return encodeEnvelope(DeadLetterSchema, letter);
}

/** Every outbound dead letter of a deployment, oldest first per partition (tests, operators). */
export async function readOutboundDeadLetters(
  client: RedisClient,
  keyspace: Keyspace,
): Promise<{ partition: number; id: string; letter: DeadLetter }[]> {
  const field = keyspace.spec("outboundDeadLetters").entryField;
  const out: { partition: number; id: string; letter: DeadLetter }[] = [];
  const keys = keyspace.allPartitions("outboundDeadLetters");
  for (const [partition, key] of keys.entries()) {
    const entries = (await client.xrangeBuffer(key, "-", "+")) as [Buffer, Buffer[]][];
    for (const [id, fields] of entries) {
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if ((fields[i] as Buffer).toString() === field) {
          out.push({ partition, id: id.toString(), letter: decodeEnvelope(DeadLetterSchema, fields[i + 1] as Buffer) });
        }
      }
    }
  }
  return out;
}
