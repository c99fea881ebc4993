import { describe, expect, it } from "vitest";
import { loadTestVectors } from "../../test-fixtures/test-vectors.js";
import { crc16, hashSlot, partitionOf, partitionTag } from "./partitioning.js";

const vectors = loadTestVectors();

describe("partitioning", () => {
  it("computes CRC16/XMODEM like Redis", () => {
    for (const v of vectors.crc16) expect(crc16(Buffer.from(v.input))).toBe(v.crc16);
  });

  it("assigns hash slots like Redis, honouring hash tags", () => {
    for (const v of vectors.slots) expect(hashSlot(v.key), v.key).toBe(v.slot);
  });

  it("puts a routing key in the same partition as the shared vectors", () => {
    for (const v of vectors.partitions) expect(partitionOf(v.routing_key, v.count), v.routing_key).toBe(v.partition);
  });

  it("precomputes one tag per partition, each in its own slice of the slot space", () => {
    for (const v of vectors.partition_tags) {
      const tag = partitionTag(v.family, v.partition, v.count);
      expect(tag).toBe(v.tag);
      expect(Math.floor((hashSlot(`{${tag}}`) * v.count) / 16384)).toBe(v.partition);
    }
  });

  it("rejects partition counts and indexes out of range", () => {
    expect(() => partitionOf("k", 0)).toThrow(RangeError);
    expect(() => partitionTag("i", 4, 4)).toThrow(RangeError);
  });
});
