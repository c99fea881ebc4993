import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
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
import { holdStill, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebSocket } from "ws";
import { EchoConsumer } from "../test-fixtures/echo-consumer.js";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";
import { pushToRelayInbox, routeWalletToSocket, walletPush } from "../test-fixtures/shim-commands.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const HEARTBEAT_MS = 1_000;

/**
 * A TCP proxy in front of the relay that passes what the relay sends on at `bytesPerSecond` (in
 * tenth-of-a-second slices), like a wallet's slow mobile link; the wallet's own bytes pass at once.
 * It reads from the relay only as fast as it passes bytes on, so the relay's TCP send queue drains
 * at the link's pace.
 */
async function throttlingProxy(target: AddressInfo, bytesPerSecond: number): Promise<{ port: number; close(): void }> {
  const connections = new Set<Socket>();
  const server: Server = createServer((wallet) => {
    const relay = connect(target.port, target.address);
    connections.add(wallet).add(relay);
    const end = () => {
      wallet.destroy();
      relay.destroy();
    };
    for (const side of [wallet, relay]) side.on("error", end).on("close", end);
    wallet.pipe(relay);
    const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
    relay.on("data", async (chunk: Buffer) => {
      relay.pause();
      for (let at = 0; at < chunk.length && !wallet.destroyed; at += slice) {
        if (!wallet.write(chunk.subarray(at, at + slice))) await once(wallet, "drain").catch(() => {});
        await holdStill(100, "the link's bandwidth: one slice per 100 ms");
      }
      relay.resume();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const socket of connections) socket.destroy();
      server.close();
    },
  };
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

// One relay on real Redis, heartbeat every second; the test plays the shim's part (route_set, inbox_push) by hand.
describe("a wallet receiving a large push over a slow link", () => {
  let t: TestRelay;
  let client: RedisClient;
  let keyspace: Keyspace;
  let echo: EchoConsumer;
  const blocking: RedisClient[] = [];

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    t = await startTestRelay({
      redisUrl,
      prefix: uniquePrefix("relay-slow-link"),
      config: { wsHeartbeatMs: HEARTBEAT_MS },
    });
    client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
    for (let i = 0; i < 4; i++) blocking.push(createRedisClient({ url: redisUrl, cluster: false }, "blocking"));
    keyspace = new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
    echo = new EchoConsumer(blocking, client, keyspace, () => undefined);
    await echo.start();
  });
  afterAll(async () => {
    await echo.stop();
    await t.relay.stop();
    await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
  });

  /** Opens a socket as the wallet and registers its route as the shim would on its first frame. */
  async function session(url: string, walletKey: string): Promise<{ ws: WebSocket; frame: AgentMessage }> {
    const ws = await open(url);
    ws.on("error", () => {});
    ws.send(fakeJwe(walletKey), { binary: true });
    const frame = await waitFor("the session's frame", () =>
      echo.seen.find((m) => m.kind === InboundKind.AGENT_MESSAGE && m.recipientKey === walletKey),
    );
    await routeWalletToSocket(client, keyspace, walletKey, t.relay.relayId, frame);
    return { ws, frame };
  }

  async function push(frame: AgentMessage, walletKey: string, mid: string, body: Buffer): Promise<void> {
    const command = walletPush(frame, walletKey, mid, body);
    expect(await pushToRelayInbox(client, keyspace, t.relay.relayId, command)).toBe("OK");
  }

  async function inboxSettled(): Promise<boolean> {
    const inbox = keyspace.key("relayInbox", { relay: t.relay.relayId });
    const [pending] = (await client.xpending(inbox, keyspace.spec("relayInbox").consumerGroup)) as [number];
    return Number(pending) === 0 && (await client.xlen(inbox)) === 0;
  }

  async function latePongsKept(): Promise<number> {
    const metric = await t.metrics.getSingleMetric("acapy_bridge_relay_ws_late_pongs_still_receiving_total")?.get();
    return metric?.values[0]?.value ?? 0;
  }

  it("is not terminated while the message is still reaching it: the message is delivered and confirmed, nothing goes back to the mailbox", async () => {
    const proxy = await throttlingProxy(t.relay.httpAddress, 100 * KIB);
    const walletKey = randomVerkey();
    const wallet = await session(`ws://127.0.0.1:${proxy.port}`, walletKey);
    let closedAt: number | undefined;
    wallet.ws.on("close", () => {
      closedAt = Date.now();
    });
    const received: Buffer[] = [];
    wallet.ws.on("message", (data: Buffer) => received.push(data));
    const logsBefore = t.logs.length;
    try {
      const body = Buffer.alloc(MIB, "large");
      await push(wallet.frame, walletKey, "large-over-slow-link", body);
      // About ten seconds at 100 KiB/s: ten heartbeats, each of whose pongs waits behind the frame.
      await waitFor("the large message at the wallet", () => received.length === 1, 60_000, 50);
      expect(received[0]?.equals(body)).toBe(true);
      await waitFor("the push confirmed and its inbox entry acknowledged", inboxSettled, 10_000, 50);
      expect(closedAt).toBeUndefined();
      expect(wallet.ws.readyState).toBe(WebSocket.OPEN);
      expect(await client.llen(keyspace.key("walletMailbox", { recipient: walletKey }))).toBe(0);
      const since = t.logs.slice(logsBefore);
      expect(since.filter((l) => l.event === "relay.ws_swept" || l.event === "relay.push_unconfirmed")).toEqual([]);
      expect(since.filter((l) => l.event === "relay.ws_slow_consumer")).toEqual([]);
      // The pongs were late indeed, and the heartbeat kept the socket for the bytes still flowing.
      expect(await latePongsKept()).toBeGreaterThan(0);
    } finally {
      wallet.ws.terminate();
      proxy.close();
    }
  });

  it("is still terminated once it stops reading altogether, and the message goes back to its mailbox", async () => {
    const walletKey = randomVerkey();
    const wallet = await session(t.wsUrl, walletKey);
    (wallet.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const logsBefore = t.logs.length;
    try {
      const pushedAt = Date.now();
      // 48 KiB ahead of the next ping: waited for 3 s (at 16 KiB/s) before the socket is terminated.
      await push(wallet.frame, walletKey, "never-read", Buffer.alloc(48 * KIB, "never-read"));
      // Its paused socket would not even notice the relay closing it: the relay's log tells.
      await waitFor(
        "the socket terminated by the heartbeat or as a slow consumer",
        () =>
          t.logs
            .slice(logsBefore)
            .some(
              (l) => (l.event === "relay.ws_swept" && Number(l.terminated) > 0) || l.event === "relay.ws_slow_consumer",
            ),
        10_000,
        20,
      );
      // The next ping, then the 3 s its bytes may take, then the heartbeat's next turn.
      expect(Date.now() - pushedAt).toBeLessThan(3_000 + 3 * HEARTBEAT_MS);
      const mailbox = keyspace.key("walletMailbox", { recipient: walletKey });
      await waitFor("the message back in the mailbox", async () => (await client.llen(mailbox)) === 1, 10_000);
      const [waiting] = await client.lrangeBuffer(mailbox, 0, -1);
      expect(decodeEnvelope(WalletMessageSchema, waiting as Buffer).mid).toBe("never-read");
      await waitFor("its inbox entry acknowledged", inboxSettled, 10_000);
    } finally {
      wallet.ws.terminate();
    }
  });
});
