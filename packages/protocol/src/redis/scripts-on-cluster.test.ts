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
import { type LuaScriptName, luaScripts } from "../gen/lua_scripts.js";
import { closeRedisClient, createRedisClient, type RedisClient, waitUntilReady } from "./connection.js";
import { runScript } from "./scripts.js";
import { ensureGroup } from "./streams.js";
import { ensureTopology } from "./topology.js";

type Call = { keys: string[]; args: (string | number | Uint8Array)[] };

function calls(k: Keyspace, owner: string): Record<LuaScriptName, Call> {
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
    enqueue: { keys: [q, k.key("outboundSeen", { ...p, mid: "m" })], args: ["e", Buffer.from("x"), 0, 1000] },
    ack: { keys: [q], args: [group, "0-1"] },
    bury: { keys: [q, dlq], args: [group, "0-1", "e", Buffer.from("dl"), 0] },
    lease_acquire: { keys: [lease], args: [owner, 10_000] },
    lease_renew: { keys: [lease], args: [owner, 10_000] },
    admit: { keys: [lease, q, park], args: [owner, group, "0-1", parked] },
    defer: { keys: [lease, q, park, retry], args: [owner, group, "0-1", parked, Date.now(), "rk"] },
    retry_fail: { keys: [lease, park, retry], args: [owner, "rk", parked, Date.now()] },
    retry_ok: { keys: [lease, park, retry], args: [owner, "rk", Date.now(), parkedDigest] },
    fenced_ack: { keys: [lease, q], args: [owner, group, "0-1"] },
    fenced_bury: { keys: [lease, q, dlq], args: [owner, group, "0-1", "e", Buffer.from("dl"), 0] },
    bury_parked: {
      keys: [lease, park, retry, dlq],
      args: [owner, "rk", Date.now(), "e", Buffer.from("dl"), 0, parkedDigest],
    },
    lease_release: { keys: [lease], args: [owner] },
    route_set: {
      keys: [route],
      args: [
        encodeEnvelope(WalletRouteSchema, create(WalletRouteSchema, { relayId: "r", socketId: "s", epoch: 7n })),
        7,
        60_000,
      ],
    },
    mailbox_offer: {
      keys: [route, mailbox],
      args: [
        encodeEnvelope(WalletMessageSchema, create(WalletMessageSchema, { mid: "w1", recipientKey: "wallet1" })),
        10,
        0,
      ],
    },
    mailbox_take: { keys: [mailbox], args: ["", 1] },
    pickup_ack: { keys: [mailbox, k.key("walletPickupSent", { recipient: "wallet1" })], args: ["w1"] },
    route_clear: { keys: [route], args: ["r", "s"] },
    inbox_push: {
      keys: [k.key("relayInbox", { relay: "relay-x" })],
      args: ["e", encodeEnvelope(RelayCommandSchema, create(RelayCommandSchema, {}))],
    },
    inbox_retire: { keys: [k.key("relayInbox", { relay: "relay-x" })], args: [] },
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
    expect(Object.keys(cases).sort()).toEqual(Object.keys(luaScripts).sort());
    for (const [name, call] of Object.entries(cases) as [LuaScriptName, Call][]) {
      expect(new Set(call.keys.map(hashSlot)).size, `${name} keys in one slot`).toBe(1);
      await expect(runScript(client, name, call.keys, call.args), name).resolves.toBeDefined();
    }
  });
});
