import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type AgentMessage,
  closeRedisClient,
  createRedisClient,
  decodeEnvelope,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
  WalletMessageSchema,
} from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";
import { pushToRelayInbox, routeWalletToSocket, walletPush } from "../test-fixtures/shim-commands.js";
import { type SlowConsumerReason, SocketRegistry } from "./websocket-ingress.js";

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Stops reading from a client socket: what the relay sends piles up in the kernel's buffers, then in the relay's. */
function stopReading(ws: WebSocket): void {
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
}

const SEND_TIMEOUT_MS = 1_000;
const MIB = 1024 * 1024;

// A wallet that stops reading but keeps sending (which keeps the heartbeat happy) must not hold up the
// relay's inbox, which handles one entry at a time: the test plays the shim (route_set, inbox_push) by hand.
describe("a wallet socket that stops reading", () => {
  let t: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;
  let echo: EchoConsumer;
  const blocking: RedisClient[] = [];

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    t = await startTestRelay({
      redisUrl,
      prefix: uniquePrefix("relay-slow-consumer"),
      // The buffered-bytes bound out of the way: this test is about the send timeout.
      config: { wsSendTimeoutMs: SEND_TIMEOUT_MS, wsMaxBufferedBytes: 1024 * MIB, replyTimeoutMs: 30_000 },
    });
    client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
    for (let i = 0; i < 4; i++) blocking.push(createRedisClient({ url: redisUrl, cluster: false }, "blocking"));
    keyspace = new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
    // ACA-Py answers HTTP requests only: the wallets' frames need no reply here.
    echo = new EchoConsumer(blocking, client, keyspace, (m) =>
      m.kind === InboundKind.AGENT_MESSAGE && m.requestId
        ? { status: 200, contentType: "application/didcomm-envelope-enc", body: Buffer.from(`reply-to-${m.mid}`) }
        : undefined,
    );
    echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await t.relay.stop();
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  /** Opens a socket as the wallet and registers its route as the shim would on its first frame. */
  async function session(walletKey: string): Promise<{ ws: WebSocket; frame: AgentMessage }> {
    const ws = await open(t.wsUrl);
    ws.on("error", () => {});
    ws.send(fakeJwe(walletKey), { binary: true });
    const frame = await waitFor("the session's frame", () => echo.seen.find((m) => m.recipientKey === walletKey));
    await routeWalletToSocket(client, keyspace, walletKey, t.relay.relayId, frame);
    return { ws, frame };
  }

  async function push(frame: AgentMessage, walletKey: string, mid: string, body: Buffer): Promise<void> {
    const command = walletPush(frame, walletKey, mid, body);
    expect(await pushToRelayInbox(client, keyspace, t.relay.relayId, command)).toBe("OK");
  }

  it("is terminated once a send to it does not complete within the send timeout, so other wallets' pushes and HTTP direct responses still get through, and its messages go back to its mailbox", async () => {
    const stalledKey = randomVerkey();
    const otherKey = randomVerkey();
    const stalled = await session(stalledKey);
    const other = await session(otherKey);
    const received: string[] = [];
    other.ws.on("message", (data: Buffer) => received.push(data.toString()));

    stopReading(stalled.ws);
    // It keeps talking, so the heartbeat keeps it for alive.
    const keepTalking = setInterval(() => {
      if (stalled.ws.readyState === WebSocket.OPEN) stalled.ws.send(fakeJwe(stalledKey), { binary: true });
    }, 500);
    try {
      // Far more than the loopback's kernel buffers (a few MB each way) take.
      const mids = Array.from({ length: 24 }, (_, i) => `stalled-${i}`);
      for (const mid of mids) await push(stalled.frame, stalledKey, mid, Buffer.alloc(MIB, mid));
      const pushedAt = Date.now();
      await push(other.frame, otherKey, "for-the-other-wallet", Buffer.from("for-the-other-wallet"));
      const answer = await fetch(t.url, {
        method: "POST",
        headers: { "content-type": "application/didcomm-envelope-enc" },
        body: fakeJwe(randomVerkey()),
      });
      expect(answer.status).toBe(200);
      expect(await answer.text()).toMatch(/^reply-to-/);
      await waitFor("the other wallet's push", () => received.includes("for-the-other-wallet"), 15_000, 10);
      expect(Date.now() - pushedAt).toBeLessThan(SEND_TIMEOUT_MS + 3_000);

      const slow = t.logs.find((l) => l.event === "relay.ws_slow_consumer");
      expect(slow).toMatchObject({ socket: stalled.frame.socketId, reason: "send_timeout" });
      const counted = (await t.metrics.getSingleMetric("acapy_bridge_relay_ws_slow_consumers_total")?.get())?.values;
      expect(counted).toEqual([expect.objectContaining({ labels: { reason: "send_timeout" }, value: 1 })]);
      // Never confirmed by the wallet: every message waits in its mailbox, in order, for its next session.
      const mailbox = keyspace.key("walletMailbox", { recipient: stalledKey });
      await waitFor(
        "the stalled wallet's messages back in its mailbox",
        async () => (await client.llen(mailbox)) === 24,
      );
      const waiting = await client.lrangeBuffer(mailbox, 0, -1);
      expect(waiting.map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid)).toEqual(mids);
    } finally {
      clearInterval(keepTalking);
      stalled.ws.terminate();
      other.ws.close();
    }
  });
});

describe("a socket with more than the buffered-bytes bound waiting", () => {
  it("is terminated before the next send, which resolves false", async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const registry = new SocketRegistry({ sendTimeoutMs: 60_000, maxBufferedBytes: MIB });
    const slow: SlowConsumerReason[] = [];
    registry.onSlowConsumer = (_id, reason) => slow.push(reason);
    const accepted = once(wss, "connection") as Promise<[WebSocket]>;
    const wallet = await open(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    wallet.on("error", () => {});
    const [ws] = await accepted;
    const tracked = registry.add("ws-slow", ws, "127.0.0.1");
    let gone = false;
    ws.on("close", () => registry.gone("ws-slow", tracked));
    registry.onGone = () => {
      gone = true;
    };
    try {
      stopReading(wallet);
      // Sent without waiting for each other (a ping, a reply and a push may overlap): the kernel's
      // buffers fill up, then the relay's.
      const sends = Array.from({ length: 32 }, () => registry.send("ws-slow", Buffer.alloc(MIB), true));
      const results = await Promise.all(sends);
      expect(results.filter((sent) => !sent).length).toBeGreaterThan(0);
      expect(slow).toEqual(["buffer_full"]);
      await waitFor("the socket gone", () => gone, 5_000);
      expect(await registry.send("ws-slow", Buffer.from("after"), true)).toBe(false);
    } finally {
      wallet.terminate();
      wss.close();
      server.close();
    }
  });
});
