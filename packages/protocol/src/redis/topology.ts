import { create } from "@bufbuild/protobuf";
import { decodeEnvelope, encodeEnvelope } from "../contract/envelope-codec.js";
import { Keyspace, partitionCountsOf } from "../contract/keyspace.js";
import { type Topology, TopologySchema } from "../gen/acapy_bridge/v1/envelopes_pb.js";
import type { RedisClient } from "./connection.js";

export type PartitionPlan = Pick<
  Topology,
  "inboundPartitions" | "outboundPartitions" | "eventPartitions" | "adminPartitions"
>;

export const DEFAULT_PARTITIONS: PartitionPlan = {
  inboundPartitions: 16,
  outboundPartitions: 16,
  eventPartitions: 4,
  adminPartitions: 1,
};

export class TopologyMismatchError extends Error {
  override name = "TopologyMismatchError";
}

/**
 * Records the deployment's partition counts on first start, and refuses to run
 * a process whose counts differ: a message would otherwise land in a partition
 * nobody reads.
 */
export async function ensureTopology(
  client: RedisClient,
  prefix: string,
  wanted: PartitionPlan,
  now: number = Date.now(),
): Promise<Keyspace> {
  const key = new Keyspace(prefix, {}).key("topology");
  const proposed = create(TopologySchema, { ...wanted, createdAtMs: BigInt(now) });
  const previous = (await client.call(
    "SET",
    key,
    Buffer.from(encodeEnvelope(TopologySchema, proposed)),
    "NX",
    "GET",
  )) as string | null;
  let actual = proposed;
  if (previous !== null) {
    const stored = await client.getBuffer(key);
    if (!stored) throw new TopologyMismatchError(`topology key ${key} vanished`);
    actual = decodeEnvelope(TopologySchema, stored);
    for (const field of Object.keys(wanted) as (keyof PartitionPlan)[]) {
      if (actual[field] !== wanted[field]) {
        throw new TopologyMismatchError(
          `${key} says ${field}=${actual[field]} but this process is configured with ${wanted[field]}; ` +
            "every process of a deployment must use the same partition counts",
        );
      }
    }
  }
  return new Keyspace(prefix, partitionCountsOf(actual));
}

/** Where a bridge process finds its deployment: the Redis, the key prefix, the partition plan. */
export interface BridgeConnectionConfig {
  redis: import("./connection.js").RedisConnectionConfig;
  prefix: string;
  partitions: PartitionPlan;
}
