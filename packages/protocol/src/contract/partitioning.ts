import { createHash } from "node:crypto";

/** Redis Cluster has this many hash slots. */
export const CLUSTER_SLOTS = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[i] = crc;
  }
  return table;
})();

/** CRC16/XMODEM, the checksum Redis Cluster uses for key slots. */
export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const byte of data) {
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  }
  return crc;
}

/** The slot Redis Cluster assigns to `key`, honouring a `{hash tag}`. */
export function hashSlot(key: string): number {
  const open = key.indexOf("{");
  if (open !== -1) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) {
      return crc16(Buffer.from(key.slice(open + 1, close), "utf8")) % CLUSTER_SLOTS;
    }
  }
  return crc16(Buffer.from(key, "utf8")) % CLUSTER_SLOTS;
}

/** p = uint32_be(sha256(utf8(routingKey))[0..4]) mod count (see keyspace.proto). */
export function partitionOf(routingKey: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`partition count must be a positive integer, got ${count}`);
  }
  const digest = createHash("sha256").update(routingKey, "utf8").digest();
  return digest.readUInt32BE(0) % count;
}

const tagCache = new Map<string, string>();

/**
 * The hash tag of partition `p` of a family: the first `f + p + "-" + n` whose
 * slot falls in the p-th of `count` equal slices of the slot space.
 */
export function partitionTag(family: string, p: number, count: number): string {
  if (!Number.isInteger(p) || p < 0 || p >= count) {
    throw new RangeError(`partition ${p} out of range 0..${count - 1}`);
  }
  if (count > CLUSTER_SLOTS) {
    throw new RangeError(`at most ${CLUSTER_SLOTS} partitions, got ${count}`);
  }
  const cacheKey = `${family}/${p}/${count}`;
  const cached = tagCache.get(cacheKey);
  if (cached !== undefined) return cached;
  for (let n = 0; ; n++) {
    const tag = `${family}${p}-${n}`;
    const slot = crc16(Buffer.from(tag, "utf8")) % CLUSTER_SLOTS;
    if (Math.floor((slot * count) / CLUSTER_SLOTS) === p) {
      tagCache.set(cacheKey, tag);
      return tag;
    }
  }
}
