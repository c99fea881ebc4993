import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeEnvelope } from "../contract/envelope-codec.js";
import type { Keyspace } from "../contract/keyspace.js";
import { hashSlot } from "../contract/partitioning.js";
import {
  OutboundJobSchema,
  ParkedJobSchema,
  RelayCommandSchema,
  WalletMessageSchema,
  WalletRouteSchema,
} from "../gen/acapy_bridge/v1/envelopes_pb.js";
import { lua, luaKeys } from "../gen/lua_scripts.js";
import { luaScripts } from "../gen/lua_sources.js";
import { closeRedisClient, createRedisClient, type RedisClient, waitUntilReady } from "./connection.js";
import { ensureGroup } from "./streams.js";
import { ensureTopology } from "./topology.js";

type Calls = { [N in keyof typeof lua]: Parameters<(typeof lua)[N]>[1] };

function calls(k: Keyspace, owner: string): Calls {
  const p = { partition: 5 };
  const q = k.key("outboundQueue", p);
  const lease = k.key("outboundLease", p);
  const park = k.key("outboundParked", { ...p, recipient: "rk" });
  const retry = k.key("outboundRetrySchedule", p);
  const dlq = k.key("outboundDeadLetters", p);
  const group = k.spec("outboundQueue").consumerGroup;
  const parked = encodeEnvelope(
    ParkedJobSchema,
    create(ParkedJobSchema, { attempts: 1, job: create(OutboundJobSchema, { mid: "m" }) }),
  );
  const parkedDigest = createHash("sha1").update(parked).digest("hex");
  const route = k.key("walletRoute", { recipient: "wallet1" });
  const mailbox = k.key("walletMailbox", { recipient: "wallet1" });
  return {
    enqueue: {
      stream: q,
      seen: k.key("outboundSeen", { ...p, mid: "m" }),
      entryField: "e",
      envelope: Buffer.from("x"),
      highWaterMark: 0,
      seenTtlMs: 1000,
    },
    inboundEnqueue: {
      stream: k.key("inboundQueue", p),
      recipientCount: k.key("inboundRecipientCount", { ...p, recipient: "rk" }),
      seen: k.key("inboundSeen", { ...p, digest: "d" }),
      entryField: "e",
      envelope: Buffer.from("x"),
      highWaterMark: 10,
      highWaterBytes: 1_000_000,
      recipientCap: 10,
      recipientWindowMs: 1000,
      seenTtlMs: 1000,
    },
    ack: { stream: q, group, ids: ["0-1"] },
    adminClaim: {
      stream: k.key("adminRequests", { partition: 0 }),
      claim: k.key("adminClaims", { partition: 0, mid: "m" }),
      entryId: "0-1",
      claimant: "withdraw",
      ttlMs: 1000,
    },
    bury: {
      stream: q,
      deadLetters: dlq,
      group,
      entryId: "0-1",
      entryField: "e",
      deadLetter: Buffer.from("dl"),
      cap: 0,
    },
    leaseAcquire: { lease, owner, ttlMs: 10_000 },
    leaseRenew: { lease, owner, ttlMs: 10_000 },
    admit: { lease, stream: q, park, owner, group, entryId: "0-1", parkedJob: parked },
    defer: {
      lease,
      stream: q,
      park,
      retry,
      owner,
      group,
      entryId: "0-1",
      parkedJob: parked,
      dueMs: Date.now(),
      recipient: "rk",
    },
    retryFail: { lease, park, retry, owner, recipient: "rk", parkedJob: parked, dueMs: Date.now() },
    retryOk: { lease, park, retry, owner, recipient: "rk", nowMs: Date.now(), headDigest: parkedDigest },
    fencedAck: { lease, stream: q, owner, group, ids: ["0-1"] },
    fencedBury: {
      lease,
      stream: q,
      deadLetters: dlq,
      owner,
      group,
      entryId: "0-1",
      entryField: "e",
      deadLetter: Buffer.from("dl"),
      cap: 0,
    },
    buryParked: {
      lease,
      park,
      retry,
      deadLetters: dlq,
      owner,
      recipient: "rk",
      nowMs: Date.now(),
      entryField: "e",
      deadLetter: Buffer.from("dl"),
      cap: 0,
      headDigest: parkedDigest,
    },
    leaseRelease: { lease, owner },
    routeSet: {
      route,
      walletRoute: encodeEnvelope(
        WalletRouteSchema,
        create(WalletRouteSchema, { relayId: "r", socketId: "s", epoch: 7n }),
      ),
      epoch: 7,
      ttlMs: 60_000,
    },
    mailboxOffer: {
      route,
      mailbox,
      pushDevice: k.key("walletPushDevice", { recipient: "wallet1" }),
      pushWindow: k.key("walletPushWindow", { recipient: "wallet1" }),
      message: encodeEnvelope(WalletMessageSchema, create(WalletMessageSchema, { mid: "w1", recipientKey: "wallet1" })),
      cap: 10,
      live: "0",
    },
    mailboxTake: { mailbox, head: Buffer.from(""), count: 1 },
    pickupAck: { mailbox, sent: k.key("walletPickupSent", { recipient: "wallet1" }), mids: ["w1"] },
    pickupClaim: {
      mailbox,
      sent: k.key("walletPickupSent", { recipient: "wallet1" }),
      epoch: "1",
      ttlMs: 1000,
      fromTail: "1",
      mids: ["w1"],
    },
    routeClear: { route, relayId: "r", socketId: "s" },
    pushDeviceClear: { pushDevice: k.key("walletPushDevice", { recipient: "wallet1" }), device: Buffer.from("d") },
    inboxPush: {
      inbox: k.key("relayInbox", { relay: "relay-x" }),
      entryField: "e",
      command: encodeEnvelope(RelayCommandSchema, create(RelayCommandSchema, {})),
    },
    inboxRetire: { inbox: k.key("relayInbox", { relay: "relay-x" }) },
    // Any keys in standalone Redis; on a Cluster only writes whose keys share one slot.
    writeBatch: {
      keys: [q, k.key("outboundSeen", { ...p, mid: "w" })],
      ops: ["enqueue", "1", "2", "e", "x", "0", "1000", "ack", "1", group, "1", "0-1"].map((op) => Buffer.from(op)),
    },
  };
}

describe("every contract script on a real 3-master Redis Cluster", () => {
  let client: RedisClient;
  let keyspace: Keyspace;
  beforeAll(async () => {
    client = createRedisClient({ url: inject("redisClusterUrl"), cluster: true }, "commands");
    await waitUntilReady(client);
    keyspace = await ensureTopology(client, `t-scripts-${Date.now()}`, {
      inboundPartitions: 8,
      outboundPartitions: 8,
      eventPartitions: 1,
      adminPartitions: 1,
    });
    await ensureGroup(
      client,
      keyspace.key("outboundQueue", { partition: 5 }),
      keyspace.spec("outboundQueue").consumerGroup,
    );
  });
  afterAll(async () => closeRedisClient(client));

  it("has a case for every script, whose keys share one slot, and runs each without CROSSSLOT", async () => {
    const cases = calls(keyspace, "deliverer-1:token");
    expect(Object.keys(cases).length).toBe(Object.keys(luaScripts).length);
    for (const name of Object.keys(cases) as (keyof Calls)[]) {
      const call = cases[name] as unknown as Record<string, unknown>;
      const keys = luaKeys[name].flatMap((key) => call[key]).filter((key): key is string => typeof key === "string");
      expect(keys.length, `${name} has its keys`).toBeGreaterThan(0);
      expect(new Set(keys.map(hashSlot)).size, `${name} keys in one slot`).toBe(1);
      const run = lua[name] as (client: RedisClient, call: unknown) => Promise<unknown>;
      await expect(run(client, call), name).resolves.toBeDefined();
    }
  });
});
