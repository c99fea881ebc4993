import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeEnvelope, WalletMessageSchema } from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { fakeJwe, randomVerkey } from "../test-fixtures/fake-envelopes.js";
import {
  openSocket,
  type RelayWithShim,
  startRelayForSendTimeouts,
  stopReading,
} from "../test-fixtures/wallet-sessions.js";
import { type SlowConsumerReason, SocketRegistry } from "./socket-registry.js";

const SEND_TIMEOUT_MS = 2_000;
const MIB = 1024 * 1024;

// A wallet that stops reading but keeps sending (which keeps the heartbeat happy) must not hold up the
// relay's inbox: the test plays the shim (route_set, inbox_push) by hand.
describe("a wallet socket that stops reading", () => {
  let rig: RelayWithShim;

  beforeAll(async () => {
    rig = await startRelayForSendTimeouts(inject("redisUrl"), "relay-slow-consumer", SEND_TIMEOUT_MS);
  });
  afterAll(() => rig.stop());

  it("does not hold up other wallets' pushes and HTTP direct responses while a send to it is stuck, is terminated once that send does not complete within the send timeout, and its messages go back to its mailbox", async () => {
    const { t, client, keyspace } = rig;
    const stalledKey = randomVerkey();
    const otherKey = randomVerkey();
    const stalled = await rig.session(stalledKey);
    const other = await rig.session(otherKey);
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
      for (const mid of mids) await rig.push(stalled.frame, stalledKey, mid, Buffer.alloc(MIB, mid));
      const pushedAt = Date.now();
      await rig.push(other.frame, otherKey, "for-the-other-wallet", Buffer.from("for-the-other-wallet"));
      // An HTTP request at the same time: its direct response comes through the same inbox.
      const answering = fetch(t.url, {
        method: "POST",
        headers: { "content-type": "application/didcomm-envelope-enc" },
        body: fakeJwe(randomVerkey()),
      }).then(async (answer) => ({ status: answer.status, body: await answer.text(), at: Date.now() }));
      await waitFor("the other wallet's push", () => received.includes("for-the-other-wallet"), 15_000, 5);
      const pushLatency = Date.now() - pushedAt;
      const answer = await answering;
      expect(answer).toMatchObject({ status: 200, body: expect.stringMatching(/^reply-to-/) });
      const answerLatency = answer.at - pushedAt;
      // Both while the send to the stalled wallet was stuck: it is dropped only later.
      expect(t.logs.some((l) => l.event === "relay.ws_slow_consumer")).toBe(false);
      expect(pushLatency, "the other wallet's push, ms").toBeLessThan(500);
      expect(answerLatency, "the HTTP direct response, ms").toBeLessThan(500);

      const slow = await waitFor("the stalled wallet dropped", () =>
        t.logs.find((l) => l.event === "relay.ws_slow_consumer"),
      );
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
    const wallet = await openSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
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
