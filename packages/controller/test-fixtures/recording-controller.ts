// One controller instance in its own process, for kill -9 tests:
//   node --conditions=@acapy-bridge/source --import tsx recording-controller.ts
// env: REDIS_URL, PREFIX, GROUP, RECORD_KEY (a list the handler RPUSHes "<consumer> <mid>" to
// before it resolves), HANDLER_DELAY_MS, CLAIM_IDLE_MS.
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
  handler: async (event) => {
    await new Promise((resolve) => setTimeout(resolve, handlerDelayMs));
    await recorder.rpush(env.RECORD_KEY as string, `${consumer.consumer} ${event.mid}`);
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
