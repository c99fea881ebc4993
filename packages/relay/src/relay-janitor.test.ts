import { createMetricsRegistry } from "@acapy-bridge/operability";
import {
  closeRedisClient,
  createRedisClient,
  DEFAULT_PARTITIONS,
  decodeEnvelope,
  encodeEnvelope,
  ensureGroup,
  instanceInfo,
  Keyspace,
  Membership,
  partitionCountsOf,
  type RedisClient,
  RelayCommandSchema,
  registerScripts,
  runScript,
  WalletMessageSchema,
  waitUntilReady,
} from "@acapy-bridge/protocol";
import { uniquePrefix } from "@acapy-bridge/test-harness";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { randomVerkey } from "../test-fixtures/fake-envelopes.js";
import { InboundWriter } from "./inbound-writer.js";
import { PendingReplies } from "./pending-replies.js";
import type { RelayContext } from "./relay-context.js";
import { RelayInbox } from "./relay-inbox.js";
import { RelayJanitor } from "./relay-janitor.js";
import { createRelayMetrics } from "./relay-metrics.js";
import { DEFAULT_RELAY_CONFIG } from "./relay-options.js";
import { WalletPushes } from "./wallet-pushes.js";
import { SocketRegistry } from "./websocket-ingress.js";

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

  function janitorOn(relayId: string): RelayJanitor {
    const logger = pino({ level: "silent" });
    const ctx: RelayContext = {
      relayId,
      config: DEFAULT_RELAY_CONFIG,
      logger,
      metrics: createRelayMetrics(createMetricsRegistry({ instance: relayId }), {
        openSockets: () => 0,
        pendingRequests: () => 0,
        inboundBacklog: async () => [],
        inboundDeadLetters: async () => [],
        inboxBacklog: async () => 0,
        walletDeadLetters: async () => ({}),
        walletCounts: async () => ({}),
      }),
      writer: new InboundWriter(client, keyspace, { highWaterMark: 0, dedupWindowMs: 0 }),
      pending: new PendingReplies(),
      sockets: new SocketRegistry(),
      draining: false,
    };
    const pushes = new WalletPushes(ctx, client, keyspace);
    const membership = new Membership({ client, keyspace, info: instanceInfo({ instanceId: relayId, role: "relay" }) });
    return new RelayJanitor(
      ctx,
      client,
      keyspace,
      membership,
      pushes,
      new RelayInbox(ctx, blocking, client, keyspace, pushes),
    );
  }

  function shimPush(deadInbox: string, walletKey: string, mid: string): Promise<unknown> {
    const message = create(WalletMessageSchema, { mid, recipientKey: walletKey, body: Buffer.from(mid) });
    const command = create(RelayCommandSchema, {
      command: { case: "push", value: { socketId: "ws-gone", routeEpoch: 1n, message } },
    });
    return runScript(
      shim,
      "inbox_push",
      [deadInbox],
      [keyspace.spec("relayInbox").entryField, encodeEnvelope(RelayCommandSchema, command)],
    );
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
});
