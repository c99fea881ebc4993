import { holdStill, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { closeRedisClient, createRedisClient, type RedisClient, waitUntilReady } from "./connection.js";
import { GroupReader } from "./group-reader.js";
import { ackEntries, ensureGroup, type StreamEntry } from "./streams.js";

describe("GroupReader.rereadPending", () => {
  let client: RedisClient;
  let blocking: RedisClient;

  beforeAll(async () => {
    client = createRedisClient({ url: inject("redisUrl"), cluster: false }, "commands");
    blocking = createRedisClient({ url: inject("redisUrl"), cluster: false }, "blocking");
    await waitUntilReady(client);
  });
  afterAll(async () => {
    await closeRedisClient(client);
    await closeRedisClient(blocking);
  });

  it("makes the next read start from the consumer's own pending entries, so an entry left unacknowledged after onBatch is read again, then new ones follow", async () => {
    const stream = `${uniquePrefix("group-reader")}-stream`;
    const group = "g";
    await ensureGroup(client, stream, group);
    for (const value of ["p1", "p2", "p3"]) await client.xadd(stream, "*", "e", value);

    const batches: string[][] = [];
    const errors: Error[] = [];
    const reader = new GroupReader({
      client: blocking,
      stream,
      group,
      consumer: "worker",
      entryField: "e",
      count: 10,
      blockMs: 100,
      onError: (error) => errors.push(error),
      onBatch: async (entries: StreamEntry[]) => {
        batches.push(entries.map((e) => String(e.payload)));
        // The first time, p2 "fails" later, outside onBatch: it stays pending and is asked for again.
        const handled = batches.length === 1 ? entries.filter((e) => String(e.payload) !== "p2") : entries;
        await ackEntries(
          client,
          stream,
          group,
          handled.map((e) => e.id),
        );
        if (batches.length === 1) setTimeout(() => reader.rereadPending(), 50);
      },
    });
    reader.start();
    try {
      await waitFor("p2 read again", () => batches.length >= 2, 3_000);
      // Several empty blocked reads of new entries go by; without the request p2 would never come back.
      await holdStill(300, "several empty blocked reads (blockMs 100) pass before the new entry");
      await client.xadd(stream, "*", "e", "p4");
      await waitFor("p4 read", () => batches.length >= 3, 3_000);
      expect(batches).toEqual([["p1", "p2", "p3"], ["p2"], ["p4"]]);
      expect(errors).toEqual([]);
      expect(await client.xpending(stream, group)).toEqual([0, null, null, null]);
    } finally {
      await reader.stop();
    }
  });
});
