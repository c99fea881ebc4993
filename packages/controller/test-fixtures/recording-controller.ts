// One controller instance in its own process, for kill -9 tests:
//   node --conditions=@acapy-bridge/source --import tsx recording-controller.ts
// env: REDIS_URL, PREFIX, GROUP, RECORD_KEY (a list the handler RPUSHes "<consumer> <mid>" to
// before it resolves), HANDLER_DELAY_MS, CLAIM_IDLE_MS; ORDERED=1 with LEASE_TTL_MS, HEARTBEAT_MS, DEAD_AFTER_MS.
import { closeRedisClient, createRedisClient } from "@acapy-bridge/protocol";
import { EventsConsumer } from "../src/index.js";

const env = process.env;
const redis = { url: env.REDIS_URL as string, cluster: false };
const recorder = createRedisClient(redis, "commands");
const handlerDelayMs = Number(env.HANDLER_DELAY_MS ?? 5);
const consumer: EventsConsumer = new EventsConsumer({
  redis,
  prefix: env.PREFIX as string,
  group: env.GROUP as string,
  startAt: "beginning",
  claimIdleMs: Number(env.CLAIM_IDLE_MS ?? 1_000),
  blockMs: 200,
  ordered: env.ORDERED === "1",
  leaseTtlMs: Number(env.LEASE_TTL_MS ?? 1_500),
  heartbeatMs: Number(env.HEARTBEAT_MS ?? 200),
  deadAfterMs: Number(env.DEAD_AFTER_MS ?? 1_500),
  handler: async (event) => {
    await new Promise((resolve) => setTimeout(resolve, handlerDelayMs));
    const { i } = event.payload as { i: number };
    await recorder.rpush(env.RECORD_KEY as string, `${consumer.consumer} ${event.mid} ${event.orderingKey} ${i}`);
  },
});
await consumer.start();
process.stdout.write(`${JSON.stringify({ event: "process.ready", consumer: consumer.consumer })}\n`);
process.on("SIGTERM", () => {
  void consumer
    .stop()
    .then(() => closeRedisClient(recorder))
    .then(() => process.exit(0));
});
