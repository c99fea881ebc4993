import { RelayCommandSchema } from "@acapy-bridge/protocol";
import { waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { pushToRelayInbox } from "../test-fixtures/shim-commands.js";
import { type RelayWithShim, startRelayForSendTimeouts, stopReading } from "../test-fixtures/wallet-sessions.js";

const SEND_TIMEOUT_MS = 1_500;
const MIB = 1024 * 1024;
/** 1 MiB pushes to a wallet that does not read: more than the loopback's kernel buffers take. */
const STALLING_PUSHES = 12;

// The relay's inbox handles entries for different sockets side by side, one socket's in order: a
// wallet that stops reading holds up only its own socket's entries. The test plays the shim by hand.
describe("the relay inbox with wallets that stop reading", () => {
  let rig: RelayWithShim;

  beforeAll(async () => {
    // No heartbeat in the way either: the stalled wallets do not keep talking.
    rig = await startRelayForSendTimeouts(inject("redisUrl"), "relay-inbox-lanes", SEND_TIMEOUT_MS, {
      wsHeartbeatMs: 60_000,
    });
  });
  afterAll(() => rig.stop());

  /** Opens sessions for wallets that stop reading at once. */
  async function stalledWallets(count: number) {
    const wallets = [];
    for (let i = 0; i < count; i++) {
      const key = randomVerkey();
      const session = await rig.session(key);
      stopReading(session.ws);
      wallets.push({ key, ...session });
    }
    return wallets;
  }

  function slowConsumerLogs(socketIds: string[]) {
    return rig.t.logs.filter((l) => l.event === "relay.ws_slow_consumer" && socketIds.includes(l.socket as string));
  }

  it("drops several stalled wallets after about one send timeout, their timeouts running side by side instead of one after another", async () => {
    const stalled = await stalledWallets(3);
    const sockets = stalled.map((w) => w.frame.socketId);
    try {
      const firstPushAt = Date.now();
      for (let i = 0; i < STALLING_PUSHES; i++) {
        for (const w of stalled) await rig.push(w.frame, w.key, `stall-${i}`, Buffer.alloc(MIB, i));
      }
      const dropped = await waitFor(
        "the three stalled wallets dropped",
        () => (slowConsumerLogs(sockets).length === 3 ? slowConsumerLogs(sockets) : undefined),
        20_000,
        10,
      );
      expect(dropped.map((l) => l.reason)).toEqual(["send_timeout", "send_timeout", "send_timeout"]);
      const times = dropped.map((l) => l.time as number);
      const lastDropAfter = Math.max(...times) - firstPushAt;
      const spread = Math.max(...times) - Math.min(...times);
      // One after another they would take three send timeouts.
      expect(lastDropAfter, "the last stalled wallet dropped, ms after the first push").toBeLessThan(
        SEND_TIMEOUT_MS + 1_000,
      );
      expect(spread, "between the first and the last drop, ms").toBeLessThan(SEND_TIMEOUT_MS / 2);
    } finally {
      for (const w of stalled) w.ws.terminate();
    }
  });

  it("delivers a healthy socket's pushes in the order pushed, then its close, without waiting for a stalled socket whose entries are interleaved with them", async () => {
    const [stalled] = await stalledWallets(1);
    if (!stalled) throw new Error("no stalled wallet");
    const healthyKey = randomVerkey();
    const healthy = await rig.session(healthyKey);
    const received: string[] = [];
    healthy.ws.on("message", (data: Buffer) => received.push(data.toString()));
    const closed = new Promise<{ code: number; at: number }>((resolve) =>
      healthy.ws.once("close", (code: number) => resolve({ code, at: Date.now() })),
    );
    const mids = Array.from({ length: 10 }, (_, i) => `healthy-${i}`);
    try {
      for (const [i, mid] of mids.entries()) {
        // Two stalling pushes ahead of each: the stalled socket's send is stuck from the third one on.
        await rig.push(stalled.frame, stalled.key, `stall-${2 * i}`, Buffer.alloc(MIB, i));
        await rig.push(stalled.frame, stalled.key, `stall-${2 * i + 1}`, Buffer.alloc(MIB, i));
        await rig.push(healthy.frame, healthyKey, mid, Buffer.from(mid));
      }
      const closeCommand = create(RelayCommandSchema, {
        command: { case: "close", value: { socketId: healthy.frame.socketId, code: 4000, reason: "done" } },
      });
      const lastPushAt = Date.now();
      expect(await pushToRelayInbox(rig.client, rig.keyspace, rig.t.relay.relayId, closeCommand)).toBe("OK");
      const close = await closed;
      expect(close.code).toBe(4000);
      expect(received).toEqual(mids);
      expect(close.at - lastPushAt, "the healthy socket's close, ms after its last push").toBeLessThan(
        SEND_TIMEOUT_MS / 2,
      );
      expect(slowConsumerLogs([stalled.frame.socketId])).toEqual([]);
      // The stalled wallet is dropped all the same.
      await waitFor("the stalled wallet dropped", () => slowConsumerLogs([stalled.frame.socketId]).length === 1);
    } finally {
      stalled.ws.terminate();
      healthy.ws.terminate();
    }
  });

  it("leaves an entry whose handling fails pending and handles it again until it succeeds, holding back only its own socket's later entries", async () => {
    const { client, keyspace, t } = rig;
    const healthyKey = randomVerkey();
    const healthy = await rig.session(healthyKey);
    const received: string[] = [];
    healthy.ws.on("message", (data: Buffer) => received.push(data.toString()));
    // Pushes for a socket this relay does not hold look up the wallet's route; a key of the wrong
    // type makes that Redis call fail for the first wallet.
    const gone = { socketId: "ws-not-here", sessionEpoch: 1n };
    const brokenKey = randomVerkey();
    const laterKey = randomVerkey();
    const brokenRoute = keyspace.key("walletRoute", { recipient: brokenKey });
    const brokenMailbox = keyspace.key("walletMailbox", { recipient: brokenKey });
    const laterMailbox = keyspace.key("walletMailbox", { recipient: laterKey });
    await client.rpush(brokenRoute, "not a route");
    try {
      await rig.push(gone, brokenKey, "fails-first", Buffer.from("fails-first"));
      await rig.push(gone, laterKey, "same-socket-later", Buffer.from("same-socket-later"));
      const pushedAt = Date.now();
      await rig.push(healthy.frame, healthyKey, "other-socket", Buffer.from("other-socket"));
      await waitFor("the other socket's push", () => received.includes("other-socket"), 15_000, 5);
      const otherLatency = Date.now() - pushedAt;
      expect(otherLatency, "the other socket's push, ms").toBeLessThan(1_000);

      const failed = await waitFor("the failure logged", () =>
        t.logs.find((l) => l.event === "relay.inbox_entry_failed"),
      );
      expect(failed).toMatchObject({ level: "warn", command: "push", err: expect.stringMatching(/WRONGTYPE/) });
      const inbox = keyspace.key("relayInbox", { relay: t.relay.relayId });
      const group = keyspace.spec("relayInbox").consumerGroup;
      const pending = (await client.xpending(inbox, group, "-", "+", 100)) as [string, ...unknown[]][];
      expect(pending.map(([id]) => id)).toContain(failed.entry);
      // Tried again (from the pending entries) while it still fails; the entry behind it waits.
      await waitFor(
        "the failed entry tried again",
        () => t.logs.filter((l) => l.event === "relay.inbox_entry_failed" && l.entry === failed.entry).length >= 2,
        15_000,
      );
      expect(await client.llen(laterMailbox)).toBe(0);

      await client.del(brokenRoute);
      await waitFor("the later entry handled", async () => (await client.llen(laterMailbox)) === 1, 15_000);
      // In order: the failed entry went to its mailbox first.
      expect(await client.llen(brokenMailbox)).toBe(1);
      await waitFor(
        "the failed entry acknowledged",
        async () => {
          const left = (await client.xpending(inbox, group, "-", "+", 100)) as [string, ...unknown[]][];
          return !left.some(([id]) => id === failed.entry);
        },
        5_000,
      );
    } finally {
      await client.del(brokenRoute);
      healthy.ws.terminate();
    }
  });
});
