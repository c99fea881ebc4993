import {
  closeRedisClient,
  createRedisClient,
  DeadLetterReason,
  DeadLetterSchema,
  encodeEnvelope,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

/** acapy_bridge_inbound_dead_letters by partition, as a scrape of the relay sees it. */
async function deadLettersByPartition(relay: TestRelay): Promise<Record<string, number>> {
  const metric = (await relay.metrics.getMetricsAsJSON()).find((m) => m.name === "acapy_bridge_inbound_dead_letters");
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return Object.fromEntries(values.map((v) => [String(v.labels.partition), v.value]));
}

// The shims write inbound dead letters (pytest proves when); ACA-Py has no Prometheus endpoint,
// so the relays report them. Real Redis; the test writes the dead letters as a shim does.
describe("acapy_bridge_inbound_dead_letters", () => {
  let relay: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    relay = await startTestRelay({ redisUrl, prefix: uniquePrefix("relay-in-dlq") });
    client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
    await waitUntilReady(client);
    keyspace = new Keyspace(relay.connection.prefix, partitionCountsOf(relay.connection.partitions));
  });

  afterAll(async () => {
    await relay?.relay.stop();
    if (client) await closeRedisClient(client);
  });

  it("reports the dead letters waiting in each inbound partition, 0 where there are none", async () => {
    expect(Object.values(await deadLettersByPartition(relay))).toEqual([0, 0, 0, 0]);
    for (const [partition, reason] of [
      [1, DeadLetterReason.POISON],
      [1, DeadLetterReason.MALFORMED],
      [3, DeadLetterReason.POISON],
    ] as const) {
      const letter = create(DeadLetterSchema, { mid: `m-${partition}-${reason}`, reason, detail: "test" });
      await client.xadd(
        keyspace.key("inboundDeadLetters", { partition }),
        "*",
        keyspace.spec("inboundDeadLetters").entryField,
        Buffer.from(encodeEnvelope(DeadLetterSchema, letter)),
      );
    }
    expect(await deadLettersByPartition(relay)).toEqual({ "0": 0, "1": 2, "2": 0, "3": 1 });
  });
});
