import {
  closeRedisClient,
  createRedisClient,
  GroupReader,
  ReadGaveUpError,
  type RedisClient,
  type StreamEntry,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { holdStill, RedisServer, waitFor } from "@acapy-bridge/test-harness";
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
  await waitFor("the reader blocked on new entries (past its pending re-read)", async () => {
    const clients = String(await commands.call("CLIENT", "LIST"));
    return clients.split("\n").some((line) => / flags=b /.test(line) && / cmd=xreadgroup /.test(line));
  });

  // Redis holds every command for 6 s, longer than the client waits for a blocked read:
  // the read queued now is answered (with the entry below) only after the client gave up.
  await commands.call("CLIENT", "PAUSE", "6000", "WRITE");
  await holdStill(250, "the blocked read (blockMs 100) runs out and the reader's next read is held by the pause");
  const added = commands.xadd(stream, "*", "e", "late-one").catch(() => undefined); // may time out client-side; Redis still runs it

  try {
    await waitFor("the late entry handed over", () => handed.length > 0, 12_000);
  } finally {
    await reader.stop();
    await added;
  }

  console.log(
    "DEBUG",
    JSON.stringify(handed),
    errors.map((e) => `${e.name}: ${e.message}`),
  );
  expect(handed).toEqual(["late-one"]);
  expect(errors.some((e) => e instanceof ReadGaveUpError)).toBe(true);
}, 20_000);
