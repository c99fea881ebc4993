// A deliverer in its own process, for kill -9 tests (the CLI replaces this later):
//   node --conditions=@acapy-bridge/source --import tsx deliverer-process.ts
// env: REDIS_URL, PREFIX, INSTANCE_ID, DELIVERER_CONFIG (JSON overrides of FAST_CONFIG),
// PARTITION_PLAN (JSON; default TEST_PARTITIONS).

import { startDeliverer } from "../src/start-deliverer.js";
import { connectionFor, FAST_CONFIG, TEST_PARTITIONS, testServices } from "./deliverer-harness.js";

const env = process.env;
const partitions = env.PARTITION_PLAN ? (JSON.parse(env.PARTITION_PLAN) as typeof TEST_PARTITIONS) : TEST_PARTITIONS;
const connection = connectionFor(env.REDIS_URL as string, env.PREFIX as string, env.REDIS_CLUSTER === "1", partitions);
const instanceId = env.INSTANCE_ID ?? `deliverer-${process.pid}`;
const config = { ...FAST_CONFIG, ...(JSON.parse(env.DELIVERER_CONFIG ?? "{}") as object) };
const deliverer = await startDeliverer(config, connection, testServices(instanceId, "warn"));
process.stdout.write(`${JSON.stringify({ event: "process.ready", instanceId })}\n`);
process.on("SIGTERM", () => {
  void deliverer.stop().then(() => process.exit(0));
});
