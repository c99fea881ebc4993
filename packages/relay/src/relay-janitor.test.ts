import { createMetricsRegistry, SampledLog } from "@acapy-bridge/operability";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  decodeEnvelope,
  encodeEnvelope,
  ensureGroup,
  instanceInfo,
  Keyspace,
  lua,
  Membership,
  partitionCountsOf,
  type RedisClient,
  RelayCommandSchema,
  registerScripts,
  WalletMessageSchema,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { holdStill, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { InboundWriter, NEVER_REFUSE } from "./inbound-writer.js";
import { PendingReplies } from "./pending-replies.js";
import type { RelayContext } from "./relay-context.js";
import { RelayInbox } from "./relay-inbox.js";
import { RelayJanitor } from "./relay-janitor.js";
import { RelayLimits } from "./relay-limits.js";
import { createRelayMetrics } from "./relay-metrics.js";
import { DEFAULT_RELAY_CONFIG } from "./relay-options.js";
import { ShimPresence } from "./shim-presence.js";
import { SocketRegistry } from "./socket-registry.js";
import { WalletPushes } from "./wallet-pushes.js";

type ClientMethods = Record<string, (...args: unknown[]) => Promise<unknown>>;

// A janitor on real Redis against a relay that died without leaving the membership; the test
// plays the shims that keep pushing to the dead relay's inbox while they still think it alive.
describe("relay janitor", () => {
  const prefix = uniquePrefix("relay-janitor");
  const keyspace = new Keyspace(prefix, partitionCountsOf(DEFAULT_PARTITIONS));
  let client: RedisClient;
  let blocking: RedisClient;
  let shim: RedisClient;

  beforeAll(async () => {
    const redis = { url: inject("redisUrl"), cluster: false };
    client = createRedisClient(redis, "commands");
    blocking = createRedisClient(redis, "blocking");
    shim = createRedisClient(redis, "commands");
    await Promise.all([client, shim].map((c) => waitUntilReady(c)));
  });
  afterAll(async () => Promise.all([client, blocking, shim].map((c) => closeRedisClient(c))));

  /** `beforeHandOn` runs before each push is handed on (it delays the hand-on, as a slow Redis would). */
  function janitorOn(
    relayId: string,
    options: { leaseTtlMs?: number; beforeHandOn?: () => Promise<void> } = {},
  ): RelayJanitor {
    const logger = pino({ level: "silent" });
    const ctx: RelayContext = {
      relayId,
      config: DEFAULT_RELAY_CONFIG,
      logger,
      rejections: new SampledLog(logger),
      metrics: createRelayMetrics(createMetricsRegistry(), {
        openSockets: () => 0,
        framesInFlight: () => 0,
        pendingRequests: () => 0,
        liveShims: () => 0,
        openConnections: () => 0,
        bodyBytesInFlight: () => 0,
        inboundBacklog: async () => [],
        inboundDeadLetters: async () => [],
        inboxBacklog: async () => 0,
        walletDeadLetters: async () => ({}),
        walletCounts: async () => ({}),
      }),
      writer: new InboundWriter(client, keyspace, { limits: NEVER_REFUSE, dedupWindowMs: 0 }),
      pending: new PendingReplies(),
      sockets: new SocketRegistry(),
      limits: new RelayLimits(DEFAULT_RELAY_CONFIG, DEFAULT_RELAY_CONFIG.maxConnections, () => {}),
      shims: new ShimPresence(client, keyspace),
      draining: false,
    };
    const pushes = new WalletPushes(ctx, client, keyspace);
    const { beforeHandOn } = options;
    if (beforeHandOn) {
      const routeOf = pushes.routeOf.bind(pushes);
      pushes.routeOf = async (walletKey) => {
        await beforeHandOn();
        return routeOf(walletKey);
      };
    }
    const membership = new Membership({ client, keyspace, info: instanceInfo({ instanceId: relayId, role: "relay" }) });
    return new RelayJanitor(
      ctx,
      client,
      keyspace,
      membership,
      pushes,
      new RelayInbox(ctx, blocking, client, keyspace, pushes),
      1_000,
      options.leaseTtlMs,
    );
  }

  function shimPush(deadInbox: string, walletKey: string, mid: string): Promise<unknown> {
    const message = create(WalletMessageSchema, { mid, recipientKey: walletKey, body: Buffer.from(mid) });
    const command = create(RelayCommandSchema, {
      command: { case: "push", value: { socketId: "ws-gone", routeEpoch: 1n, message } },
    });
    return lua.inboxPush(shim, {
      inbox: deadInbox,
      entryField: keyspace.spec("relayInbox").entryField,
      command: encodeEnvelope(RelayCommandSchema, command),
    });
  }

  it("does not delete a push that a shim appended after its last read of the dead relay's inbox", async () => {
    const dead = "relay-dead-1";
    const deadInbox = keyspace.key("relayInbox", { relay: dead });
    const walletKey = randomVerkey();
    await ensureGroup(client, deadInbox, keyspace.spec("relayInbox").consumerGroup);
    await shimPush(deadInbox, walletKey, "before-the-round");
    await client.zadd(keyspace.key("members", { role: "relay" }), Date.now() - 60_000, dead);

    // The late push lands just before the janitor removes the inbox, whichever way it removes it.
    let latePushed = false;
    const pushLate = async () => {
      if (latePushed) return;
      latePushed = true;
      await shimPush(deadInbox, walletKey, "late");
    };
    registerScripts(client);
    const methods = client as unknown as ClientMethods;
    const { del, bridge_inbox_retire: retire } = methods as Required<
      Pick<ClientMethods, "del" | "bridge_inbox_retire">
    >;
    methods.del = async (...args) => {
      if (args.includes(deadInbox)) await pushLate();
      return del.apply(client, args);
    };
    methods.bridge_inbox_retire = async (...args) => {
      await pushLate();
      return retire.apply(client, args);
    };
    try {
      const janitor = janitorOn("relay-live-1");
      const recovered: string[] = [];
      for (let round = 0; round < 3 && !recovered.includes(dead); round++) recovered.push(...(await janitor.runOnce()));
      expect(recovered).toEqual([dead]);
      // Gives the lease up, so that the next test's janitors can take it.
      await janitor.stop();
    } finally {
      methods.del = del;
      methods.bridge_inbox_retire = retire;
    }

    expect(latePushed).toBe(true);
    // The wallet has no session: both pushes wait in its mailbox.
    const mailbox = await client.lrangeBuffer(keyspace.key("walletMailbox", { recipient: walletKey }), 0, -1);
    expect(mailbox.map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid)).toEqual(["before-the-round", "late"]);
    // ... and both are counted into the mailboxes, for the deployment's mailbox gauge.
    expect(await client.hget(keyspace.key("walletMailboxAndRouteCounts"), "MAILBOX_IN")).toBe("2");
    expect(await client.exists(deadInbox)).toBe(0);
    expect(await client.zscore(keyspace.key("members", { role: "relay" }), dead)).toBeNull();
  });

  it("keeps its lease through a round longer than the lease TTL, so that a second janitor never hands on the same entries", async () => {
    const dead = "relay-dead-2";
    const deadInbox = keyspace.key("relayInbox", { relay: dead });
    const walletKey = randomVerkey();
    const mids = Array.from({ length: 20 }, (_, i) => `slow-${i}`);
    await ensureGroup(client, deadInbox, keyspace.spec("relayInbox").consumerGroup);
    for (const mid of mids) await shimPush(deadInbox, walletKey, mid);
    const members = keyspace.key("members", { role: "relay" });
    await client.zadd(members, Date.now() - 60_000, dead);
    expect(await client.exists(keyspace.key("janitorLease", {}))).toBe(0);

    // 20 hand-ons of 60 ms each: the round lasts four lease TTLs.
    let handOns = 0;
    const slowHandOn = async () => {
      handOns++;
      await holdStill(60, "a slow hand-on, so that the round outlasts the lease TTL");
    };
    const janitors = ["relay-live-2", "relay-live-3"].map((id) =>
      janitorOn(id, { leaseTtlMs: 300, beforeHandOn: slowHandOn }),
    );
    const deadline = Date.now() + 20_000;
    const deadForgotten = async () => (await client.zscore(members, dead)) === null;
    // The first janitor starts its round; once it holds the lease, the second one tries the lease every 50 ms.
    const leaseKey = keyspace.key("janitorLease", {});
    await Promise.all(
      janitors.map(async (janitor, i) => {
        if (i > 0)
          await waitFor("the first janitor to hold the lease", async () => (await client.exists(leaseKey)) === 1);
        while (!(await deadForgotten()) && Date.now() < deadline) {
          await janitor.runOnce();
          await holdStill(50, "a janitor's pace between rounds");
        }
      }),
    );
    await Promise.all(janitors.map((j) => j.stop()));

    expect(await deadForgotten()).toBe(true);
    expect(handOns).toBe(mids.length);
    const mailbox = await client.lrangeBuffer(keyspace.key("walletMailbox", { recipient: walletKey }), 0, -1);
    expect(mailbox.map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid)).toEqual(mids);
  });
});
