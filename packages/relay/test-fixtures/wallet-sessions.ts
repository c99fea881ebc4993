// A relay with a stand-in shim (EchoConsumer answering HTTP requests) and wallets on real
// WebSockets whose sessions and pushes the test writes by hand, as the shim would.
import {
  type AgentMessage,
  closeRedisClient,
  createRedisClient,
  InboundKind,
  Keyspace,
  partitionCountsOf,
  type RedisClient,
} from "@acapy-bridge/protocol";
import { uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { WebSocket } from "ws";
import type { RelayConfig } from "../src/relay-options.js";
import { EchoConsumer } from "./echo-consumer.js";
import { fakeJwe } from "./fake-envelopes.js";
import { startTestRelay, type TestRelay } from "./relay-harness.js";
import { pushToRelayInbox, routeWalletToSocket, walletPush } from "./shim-commands.js";

export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Stops reading from a client socket: what the relay sends piles up in the kernel's buffers, then in the relay's. */
export function stopReading(ws: WebSocket): void {
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
}

export interface WalletSession {
  ws: WebSocket;
  /** The session's first frame, as ACA-Py saw it (its socket id and session epoch). */
  frame: AgentMessage;
}

export interface RelayWithShim {
  t: TestRelay;
  client: RedisClient;
  keyspace: Keyspace;
  echo: EchoConsumer;
  /** Opens a socket as the wallet and registers its route as the shim would on its first frame. */
  session(walletKey: string): Promise<WalletSession>;
  /** Writes a SocketPush of one message for the session's socket to the relay's inbox. */
  push(
    frame: Pick<AgentMessage, "socketId" | "sessionEpoch">,
    walletKey: string,
    mid: string,
    body: Buffer,
  ): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a relay and the shim's stand-in; ACA-Py answers HTTP requests only (wallets' frames need no reply). */
export async function startRelayWithShim(
  redisUrl: string,
  name: string,
  config: Partial<RelayConfig>,
): Promise<RelayWithShim> {
  const t = await startTestRelay({ redisUrl, prefix: uniquePrefix(name), config });
  const client = createRedisClient({ url: redisUrl, cluster: false }, "commands");
  const blocking = Array.from({ length: 4 }, () => createRedisClient({ url: redisUrl, cluster: false }, "blocking"));
  const keyspace = new Keyspace(t.connection.prefix, partitionCountsOf(t.connection.partitions));
  const echo = new EchoConsumer(blocking, client, keyspace, (m) =>
    m.kind === InboundKind.AGENT_MESSAGE && m.requestId
      ? { status: 200, contentType: "application/didcomm-envelope-enc", body: Buffer.from(`reply-to-${m.mid}`) }
      : undefined,
  );
  await echo.start();
  return {
    t,
    client,
    keyspace,
    echo,
    async session(walletKey) {
      const ws = await openSocket(t.wsUrl);
      ws.on("error", () => {});
      ws.send(fakeJwe(walletKey), { binary: true });
      const frame = await waitFor("the session's frame", () => echo.seen.find((m) => m.recipientKey === walletKey));
      await routeWalletToSocket(client, keyspace, walletKey, t.relay.relayId, frame);
      return { ws, frame };
    },
    async push(frame, walletKey, mid, body) {
      const status = await pushToRelayInbox(client, keyspace, t.relay.relayId, walletPush(frame, walletKey, mid, body));
      if (status !== "OK") throw new Error(`inbox_push answered ${status}`);
    },
    async stop() {
      await echo.stop();
      await t.relay.stop();
      await Promise.all([client, ...blocking].map((c) => closeRedisClient(c)));
    },
  };
}

/**
 * A relay with the shim's stand-in whose wallets are dropped as slow consumers by the send timeout
 * only: the buffered-bytes bound (and the reply timeout) out of the way.
 */
export function startRelayForSendTimeouts(
  redisUrl: string,
  name: string,
  sendTimeoutMs: number,
  config: Partial<RelayConfig> = {},
): Promise<RelayWithShim> {
  return startRelayWithShim(redisUrl, name, {
    wsSendTimeoutMs: sendTimeoutMs,
    wsMaxBufferedBytes: 1024 * 1024 * 1024,
    replyTimeoutMs: 30_000,
    ...config,
  });
}
