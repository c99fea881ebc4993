import { autoClaimIds, type RedisClient, type StreamEntry } from "@acapy-bridge/protocol";
import type { PartitionScripts } from "./partition-scripts.js";

/** The partition's stream, its consumer group, and this deliverer as the group's consumer. */
export interface PendingEntriesOf {
  scripts: PartitionScripts;
  commands: RedisClient;
  instanceId: string;
}

/**
 * Takes over, by id, every entry pending in the partition's group (`minIdleMs` 0): the lease proves
 * the previous owner has stopped. By id, the reader hands them out (reading its own pending entries
 * first), and only that counts towards maxDeliveries, so a takeover costs an entry one delivery, not
 * two. Returns how many were claimed.
 */
export async function claimAllPending(of: PendingEntriesOf, stopped: () => boolean): Promise<number> {
  const { scripts, commands, instanceId } = of;
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
  } while (cursor !== "0-0" && !stopped());
  return claimed;
}

/** The entry `id` as it is in the stream now; undefined when it has been deleted. */
export async function readPendingEntry(of: PendingEntriesOf, id: string): Promise<StreamEntry | undefined> {
  const { scripts, commands } = of;
  const raw = (await commands.xrangeBuffer(scripts.stream, id, id)) as [Buffer, Buffer[]][];
  if (raw.length === 0) return undefined;
  const fields = raw[0]?.[1] ?? [];
  let payload: Buffer | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if ((fields[i] as Buffer).toString() === scripts.entryField) payload = fields[i + 1];
  }
  return { id, payload };
}
