import { decodeEnvelope, Keyspace, partitionCountsOf, type RedisClient, TopologySchema } from "@acapy-bridge/protocol";

export class TopologyMissingError extends Error {
  override name = "TopologyMissingError";
}

/**
 * The deployment's keyspace, from the topology record the bridge and the shim
 * write on their first start. A controller only reads it: the partition counts
 * are the deployment's, never the controller's to choose.
 */
export async function readDeploymentKeyspace(client: RedisClient, prefix: string): Promise<Keyspace> {
  const key = new Keyspace(prefix, {}).key("topology");
  const stored = await client.getBuffer(key);
  if (!stored) {
    throw new TopologyMissingError(
      `no topology at ${key}: start ACA-Py with the acapy_bridge_shim plugin (or acapy-bridge) with prefix "${prefix}" first`,
    );
  }
  return new Keyspace(prefix, partitionCountsOf(decodeEnvelope(TopologySchema, stored)));
}
