import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** proto/testdata/vectors.json, shared with the Python tests. */
export interface TestVectors {
  prefix: string;
  topology: { inboundPartitions: number; outboundPartitions: number; eventPartitions: number; adminPartitions: number };
  crc16: { input: string; crc16: number }[];
  slots: { key: string; slot: number }[];
  partitions: { routing_key: string; count: number; partition: number }[];
  partition_tags: { family: string; partition: number; count: number; tag: string; slot: number }[];
  keys: { name: string; vars: Record<string, string | number>; key: string; slot: number }[];
  envelopes: { type: string; json: unknown; hex: string }[];
  malformed: { type: string; hex: string; why: string }[];
}

export function loadTestVectors(): TestVectors {
  const path = resolve(dirname(fileURLToPath(import.meta.url)), "../../../proto/testdata/vectors.json");
  return JSON.parse(readFileSync(path, "utf8")) as TestVectors;
}
