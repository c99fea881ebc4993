import {
  closeRedisClient,
  createRedisClient,
  DirectReplySchema,
  decodeEnvelope,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
  RelayCommandSchema,
  WalletMessageSchema,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";
import { pushToRelayInbox, routeWalletToSocket, walletPush } from "../test-fixtures/shim-commands.js";
import { openSocket, stopReading } from "../test-fixtures/wallet-sessions.js";

// Two relays on real Redis; the test plays the shim that answers after one of them has stopped.
describe("relay graceful stop", () => {
  const prefix = uniquePrefix("relay-stop");
  const redis = { url: inject("redisUrl"), cluster: false };
  let stopped: TestRelay;
  let survivor: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;
  let echo: EchoConsumer;
  const blocking: RedisClient[] = [];

  beforeAll(async () => {
    const config = { janitorIntervalMs: 100 };
    stopped = await startTestRelay({ redisUrl: redis.url, prefix, config });
    survivor = await startTestRelay({ redisUrl: redis.url, prefix, config });
    client = createRedisClient(redis, "commands");
    await waitUntilReady(client);
    keyspace = new Keyspace(prefix, partitionCountsOf(survivor.connection.partitions));
    for (let i = 0; i < 2; i++) blocking.push(createRedisClient(redis, "blocking"));
    echo = new EchoConsumer(blocking, client, keyspace, () => undefined);
    await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await Promise.all([stopped.relay.stop(), survivor.relay.stop()]);
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  it("leaves a reply written to its inbox after it stopped for another relay's janitor to hand back to ACA-Py", async () => {
    // Hold the janitor lease while the late reply is written, so that the survivor's janitor cannot
    // retire the stopped relay's inbox first (the shim would then route the reply another way itself).
    const lease = keyspace.key("janitorLease", {});
    await client.set(lease, "test-holds-the-lease", "PX", 30_000);
    await stopped.relay.stop();

    const reply = create(DirectReplySchema, {
      mid: "late-reply-mid",
      socketId: "ws-closed-by-the-stop",
      status: 200,
      contentType: "application/didcomm-envelope-enc",
      body: Buffer.from("late reply"),
      replyToVerkey: randomVerkey(),
    });
    const command = create(RelayCommandSchema, { command: { case: "reply", value: reply } });
    expect(await pushToRelayInbox(client, keyspace, stopped.relay.relayId, command)).toBe("OK");
    await client.del(lease);

    const returned = await waitFor(
      "the late reply handed back to ACA-Py",
      () => echo.seen.find((m) => m.kind === InboundKind.RETURNED_REPLY && m.returnedReply?.mid === "late-reply-mid"),
      5000,
    );
    expect(Buffer.from(returned.returnedReply?.body ?? []).toString()).toBe("late reply");
    expect(returned.relayId).toBe(survivor.relay.relayId);
    // ... and the stopped relay is then forgotten, its inbox gone.
    await waitFor(
      "the stopped relay forgotten",
      async () => (await client.zscore(keyspace.key("members", { role: "relay" }), stopped.relay.relayId)) === null,
      5000,
    );
    expect(await client.exists(keyspace.key("relayInbox", { relay: stopped.relay.relayId }))).toBe(0);
  });
});

// One relay on real Redis; the test plays the shim's part (route_set, inbox_push) by hand.
describe("relay stop with a wallet push unconfirmed", () => {
  const prefix = uniquePrefix("relay-stop-unconfirmed");
  const redis = { url: inject("redisUrl"), cluster: false };
  let t: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;
  let echo: EchoConsumer;
  const blocking: RedisClient[] = [];

  beforeAll(async () => {
    // The heartbeat out of the way: the socket must still be open, its push unconfirmed, when the stop comes.
    t = await startTestRelay({ redisUrl: redis.url, prefix, config: { wsHeartbeatMs: 60_000 } });
    client = createRedisClient(redis, "commands");
    await waitUntilReady(client);
    keyspace = new Keyspace(prefix, partitionCountsOf(t.connection.partitions));
    for (let i = 0; i < 4; i++) blocking.push(createRedisClient(redis, "blocking"));
    echo = new EchoConsumer(blocking, client, keyspace, () => undefined);
    await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await t.relay.stop();
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  it("returns the push to the wallet's mailbox and acknowledges its inbox entry before closing Redis", async () => {
    const walletKey = randomVerkey();
    const ws = await openSocket(t.wsUrl);
    ws.on("error", () => {});
    ws.send(fakeJwe(walletKey), { binary: true });
    const frame = await waitFor("the session's frame", () => echo.seen.find((m) => m.recipientKey === walletKey));
    await routeWalletToSocket(client, keyspace, walletKey, t.relay.relayId, frame);
    // The wallet stops reading: the push is written but its pong never comes, nor the answer to the close frame.
    stopReading(ws);
    const push = walletPush(frame, walletKey, "unconfirmed-at-stop", Buffer.from("for-the-wallet"));
    expect(await pushToRelayInbox(client, keyspace, t.relay.relayId, push)).toBe("OK");
    const inbox = keyspace.key("relayInbox", { relay: t.relay.relayId });
    const group = keyspace.spec("relayInbox").consumerGroup;
    await waitFor("the push written and awaiting its pong", async () => {
      const [pending] = (await client.xpending(inbox, group)) as [number];
      return Number(pending) === 1;
    });

    try {
      await t.relay.stop();
    } finally {
      ws.terminate();
    }

    const mailbox = await client.lrangeBuffer(keyspace.key("walletMailbox", { recipient: walletKey }), 0, -1);
    expect(mailbox.map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid)).toEqual(["unconfirmed-at-stop"]);
    expect(t.logs.filter((l) => l.event === "relay.push_return_failed" || l.event === "relay.push_error")).toEqual([]);
    const [pending] = (await client.xpending(inbox, group)) as [number];
    expect(Number(pending)).toBe(0);
    expect(await client.xlen(inbox)).toBe(0);
  });
});
