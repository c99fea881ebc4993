import {
  closeRedisClient,
  createRedisClient,
  GroupReader,
  ReadGaveUpError,
  type RedisClient,
  type StreamEntry,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { RedisServer } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, expect, it } from "vitest";

// A Redis of its own: CLIENT PAUSE would stall every other test on a shared one.
let redis: RedisServer;
let commands: RedisClient;
let blocking: RedisClient;

beforeAll(async () => {
  redis = await RedisServer.start();
  commands = createRedisClient({ url: redis.url, cluster: false }, "commands");
  blocking = createRedisClient({ url: redis.url, cluster: false }, "blocking");
  await Promise.all([waitUntilReady(commands), waitUntilReady(blocking)]);
});

afterAll(async () => {
  await Promise.all([closeRedisClient(commands), closeRedisClient(blocking)]);
  await redis.stop();
});

it("hands over an entry whose blocked read was answered after the client had given up on it", async () => {
  const stream = "late-read";
  await commands.xgroup("CREATE", stream, "g", "0", "MKSTREAM");
  const handed: string[] = [];
  const errors: Error[] = [];
  const reader = new GroupReader({
    client: blocking,
    stream,
    group: "g",
    consumer: "c",
    entryField: "e",
    count: 10,
    blockMs: 100,
    onBatch: async (entries: StreamEntry[]) => {
      handed.push(...entries.map((e) => e.payload?.toString() ?? ""));
    },
    onError: (error) => errors.push(error),
    retryDelayMs: 50,
  });
  reader.start();
  await new Promise((r) => setTimeout(r, 300)); // past the pending re-read, blocked on new entries

  // Redis holds every command for 6 s, longer than the client waits for a blocked read:
  // the read queued now is answered (with the entry below) only after the client gave up.
  await commands.call("CLIENT", "PAUSE", "6000", "WRITE");
  await new Promise((r) => setTimeout(r, 250));
  const added = commands.xadd(stream, "*", "e", "late-one").catch(() => undefined); // may time out client-side; Redis still runs it

  const deadline = Date.now() + 12_000;
  while (handed.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await reader.stop();
  await added;

  console.log(
    "DEBUG",
    JSON.stringify(handed),
    errors.map((e) => `${e.name}: ${e.message}`),
  );
  expect(handed).toEqual(["late-one"]);
  expect(errors.some((e) => e instanceof ReadGaveUpError)).toBe(true);
}, 20_000);
