import {
  type AgentMessage,
  closeRedisClient,
  createRedisClient,
  decodeEnvelope,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
  RelayCommandSchema,
  WalletMessageSchema,
} from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebSocket } from "ws";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";
import { pushToRelayInbox, routeWalletToSocket, walletPush } from "../test-fixtures/shim-commands.js";

/** The value of one series in a relay's registry (0 if absent). */
async function metricValue(relay: TestRelay, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await relay.metrics.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

// Two relays, real Redis; the test plays the shim's part (route_set, inbox_push) by hand.
describe("wallet pushes", () => {
  const prefix = uniquePrefix("relay-pushes");
  let relays: TestRelay[];
  let client: RedisClient;
  const blocking: RedisClient[] = [];
  let keyspace: Keyspace;
  let echo: EchoConsumer;

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    relays = await Promise.all(
      [0, 1].map(() =>
        startTestRelay({ redisUrl, prefix, config: { wsHeartbeatMs: 1_000, janitorIntervalMs: 1_000 } }),
      ),
    );
    client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
    // One blocking connection per inbound partition: a blocked read holds its connection.
    for (let i = 0; i < 4; i++) blocking.push(createRedisClient({ url: redisUrl, cluster: false }, "blocking"));
    keyspace = new Keyspace(prefix, partitionCountsOf(relays[0]?.connection.partitions ?? ({} as never)));
    echo = new EchoConsumer(blocking, client, keyspace, () => undefined);
    await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await Promise.all(relays.map((r) => r.relay.stop()));
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  /** Opens a socket as the wallet and registers its route as the shim would on its first frame. */
  async function session(relay: TestRelay, walletKey: string): Promise<{ ws: WebSocket; frame: AgentMessage }> {
    const ws = await open(relay.wsUrl);
    const before = echo.seen.length;
    ws.send(fakeJwe(walletKey), { binary: true });
    const frame = await waitFor("the session's frame", () =>
      echo.seen
        .slice(before)
        .find(
          (m) =>
            m.kind === InboundKind.AGENT_MESSAGE && m.relayId === relay.relay.relayId && m.recipientKey === walletKey,
        ),
    );
    await routeWalletToSocket(client, keyspace, walletKey, relay.relay.relayId, frame);
    return { ws, frame };
  }

  it("moves a dead socket's unconfirmed message to the wallet's newer session on another relay, instead of leaving it in the mailbox", async () => {
    const [first, second] = relays as [TestRelay, TestRelay];
    const walletKey = randomVerkey();
    const old = await session(first, walletKey);
    // The phone goes silent on the first relay: frames are written, never confirmed by a pong.
    (old.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const message = create(WalletMessageSchema, {
      mid: "m-unconfirmed",
      recipientKey: walletKey,
      contentType: "application/didcomm-envelope-enc",
      body: Buffer.from("for-the-wallet"),
      createdAtMs: BigInt(Date.now()),
    });
    const push = create(RelayCommandSchema, {
      command: { case: "push", value: { socketId: old.frame.socketId, routeEpoch: old.frame.sessionEpoch, message } },
    });
    await pushToRelayInbox(client, keyspace, first.relay.relayId, push);
    // Meanwhile the wallet reconnected to the other relay; its (empty) mailbox was drained then.
    const received: string[] = [];
    const fresh = await session(second, walletKey);
    fresh.ws.on("message", (data: Buffer) => received.push(data.toString()));
    // The first relay misses the pong, terminates the old socket and returns the message.
    await waitFor(
      "the unconfirmed message delivered on the new session",
      () => received.includes("for-the-wallet"),
      10_000,
    );
    expect(first.logs.some((l) => l.event === "relay.push_unconfirmed")).toBe(true);
    expect(await client.llen(keyspace.key("walletMailbox", { recipient: walletKey }))).toBe(0);
    // Counted for the deployment's metrics: one message into the mailbox (returned), one out
    // (drained to the new session), so the mailbox gauge of every relay is back at 0.
    const counts = keyspace.key("walletMailboxAndRouteCounts");
    await waitFor("the drain counted", async () => (await client.hget(counts, "MAILBOX_OUT")) === "1", 10_000);
    expect(await client.hgetall(counts)).toEqual({ MAILBOX_IN: "1", MAILBOX_OUT: "1" });
    for (const relay of [first, second]) {
      expect(await metricValue(relay, "acapy_bridge_wallet_mailbox_moves_total", { direction: "in" })).toBe(1);
      expect(await metricValue(relay, "acapy_bridge_wallet_mailbox_moves_total", { direction: "out" })).toBe(1);
      expect(await metricValue(relay, "acapy_bridge_wallet_mailbox_messages")).toBe(0);
    }
    old.ws.terminate();
    // The new session's relay has pushed to this wallet, so it clears (and counts) its route on close.
    fresh.ws.close();
    await waitFor(
      "the route's clear counted",
      async () => (await client.hget(counts, "ROUTE_CLEARED")) === "1",
      10_000,
    );
    expect(await client.exists(keyspace.key("walletRoute", { recipient: walletKey }))).toBe(0);
    expect(await metricValue(first, "acapy_bridge_wallet_route_changes_total", { change: "cleared" })).toBe(1);
  });

  it("drops a live Message Pickup copy (held in the mailbox) that a silent socket did not confirm, instead of returning it to the mailbox", async () => {
    const [first] = relays as [TestRelay, TestRelay];
    const walletKey = randomVerkey();
    const old = await session(first, walletKey);
    (old.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const push = walletPush(old.frame, walletKey, "m-held", Buffer.from("delivery-copy"));
    if (push.command.case === "push" && push.command.value.message) push.command.value.message.heldInMailbox = true;
    const dropped = await metricValue(first, "acapy_bridge_relay_wallet_pushes_total", { result: "held_dropped" });
    await pushToRelayInbox(client, keyspace, first.relay.relayId, push);
    await waitFor(
      "the held copy dropped with the silent socket",
      async () =>
        (await metricValue(first, "acapy_bridge_relay_wallet_pushes_total", { result: "held_dropped" })) ===
        dropped + 1,
      10_000,
    );
    expect(await client.llen(keyspace.key("walletMailbox", { recipient: walletKey }))).toBe(0);
    old.ws.terminate();
  });

  it("drops a held copy for a socket it no longer holds, and never drains the mailbox of a Message Pickup wallet", async () => {
    const [first, second] = relays as [TestRelay, TestRelay];
    const walletKey = randomVerkey();
    // The wallet's session is on the second relay; pushes reach the first with no hops left, so
    // they go to the mailbox there, and a wallet with a live session would have it drained to it.
    const live = await session(second, walletKey);
    const received: string[] = [];
    live.ws.on("message", (data: Buffer) => received.push(data.toString()));
    await client.set(keyspace.key("walletPickup", { recipient: walletKey }), "");
    const stale = (mid: string, held: boolean) => {
      const command = walletPush({ socketId: "gone", sessionEpoch: 1n }, walletKey, mid, Buffer.from(mid));
      if (command.command.case === "push" && command.command.value.message) {
        command.command.value.hop = 3;
        command.command.value.message.heldInMailbox = held;
      }
      return command;
    };
    const dropped = await metricValue(first, "acapy_bridge_relay_wallet_pushes_total", { result: "held_dropped" });
    // One socket's entries are handled in order: once the held copy is dropped, the plain message
    // went to the mailbox, and a drain of it (which this wallet must not get) has run or never will.
    await pushToRelayInbox(client, keyspace, first.relay.relayId, stale("m-plain", false));
    await pushToRelayInbox(client, keyspace, first.relay.relayId, stale("m-held", true));
    await waitFor(
      "the held copy dropped",
      async () =>
        (await metricValue(first, "acapy_bridge_relay_wallet_pushes_total", { result: "held_dropped" })) ===
        dropped + 1,
      10_000,
    );
    const mailbox = await client.lrangeBuffer(keyspace.key("walletMailbox", { recipient: walletKey }), 0, -1);
    expect(mailbox.map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid)).toEqual(["m-plain"]);
    expect(received).toEqual([]); // not drained to the wallet's session: it asks with delivery-request
    live.ws.close();
  });
});
