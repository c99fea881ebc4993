// The scalable mediator end to end: real ACA-Py mediators (--open-mediation) behind two relays,
// one PostgreSQL wallet, real Redis, simulated mobile wallets, a plain ACA-Py correspondent.
import {
  AcaPyAdmin,
  type AcaPyProcess,
  PostgresServer,
  TcpLoadBalancer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  keyspaceOf,
  mediator,
  metricValue,
  plainAgent,
  startTestRelay,
  type TestRelay,
} from "../test-fixtures/mediator-deployment.js";
import { MobileWallet, type OobInvitation } from "./index.js";

const BASIC = "https://didcomm.org/basicmessage/1.0/message";

describe("scalable mediator: wallets' sessions on any relay", () => {
  const prefix = uniquePrefix("e2e-mediator");
  const keyspace = keyspaceOf(inject("redisUrl"), prefix);
  const routeKey = () => keyspace.key("walletRoute", { recipient: wallet.verkey });
  const mailboxKey = () => keyspace.key("walletMailbox", { recipient: wallet.verkey });
  let redis: Redis;
  let postgres: PostgresServer;
  let relays: TestRelay[];
  let balancer: TcpLoadBalancer;
  let mediatorA: AcaPyProcess | undefined;
  let mediatorB: AcaPyProcess | undefined;
  let bob: AcaPyProcess;
  let bobAdmin: AcaPyAdmin;
  let wallet: MobileWallet;
  let bobConnection: string;

  function mediatorAdmin(): AcaPyAdmin {
    return new AcaPyAdmin(((mediatorB ?? mediatorA) as AcaPyProcess).adminUrl);
  }

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    redis = new Redis(redisUrl);
    [postgres, relays, bob] = await Promise.all([
      PostgresServer.start(),
      Promise.all([startTestRelay(redisUrl, prefix), startTestRelay(redisUrl, prefix)]),
      plainAgent("bob"),
    ]);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
    balancer = await TcpLoadBalancer.start(relays.map((r) => r.url.replace("http://", "")));
    mediatorA = await mediator({
      label: "mediator-a",
      redisUrl,
      prefix,
      endpoint: balancer.url,
      walletArgs: postgres.walletArgs("mediator"),
    });
    // The wallet joins through mediator A only.
    wallet = await MobileWallet.create("wallet-1");
    const invitation = (await mediatorAdmin().createInvitation("mediator")) as OobInvitation;
    await wallet.joinMediator(invitation, balancer.url.replace("http:", "ws:"));
    const bobInvitation = (await bobAdmin.createInvitation("bob")) as OobInvitation;
    await wallet.acceptInvitation(bobInvitation);
    bobConnection = await waitFor(
      "bob's connection to the wallet",
      async () => {
        const list = await bobAdmin.request<{ results: { connection_id: string; state: string }[] }>(
          "GET",
          `/connections?invitation_msg_id=${bobInvitation["@id"]}`,
        );
        return list.results.find((c) => c.state === "active" || c.state === "completed")?.connection_id;
      },
      30_000,
      200,
    );
  });

  afterAll(async () => {
    await wallet?.closeSocket();
    await Promise.all([mediatorA?.stop(), mediatorB?.stop(), bob?.stop()]);
    await balancer?.close();
    await Promise.all((relays ?? []).map((r) => r.relay.stop()));
    await postgres?.stop();
    redis?.disconnect();
  });

  it("pushes a forward live down the wallet's socket, processed by the mediator instance that never saw the wallet", async () => {
    mediatorB = await mediator({
      label: "mediator-b",
      redisUrl: inject("redisUrl"),
      prefix,
      endpoint: balancer.url,
      walletArgs: postgres.walletArgs("mediator"),
    });
    await mediatorA?.stop();
    mediatorA = undefined;
    await bobAdmin.sendMessage(bobConnection, "hello over the socket");
    const [got] = await wallet.waitForInbox(
      (r) => r.message["@type"] === BASIC && r.message.content === "hello over the socket",
      1,
      30_000,
    );
    expect(got?.senderVerkey).toBeDefined();
    // It went through a route, not a mailbox: the mailbox is empty and the route names a live relay.
    expect(await redis.llen(mailboxKey())).toBe(0);
    expect(await redis.exists(routeKey())).toBe(1);
  });

  it("keeps 100 messages for an offline wallet and delivers all, in mailbox order, when it reconnects to the other relay", async () => {
    await wallet.closeSocket();
    await waitFor("route cleared", async () => (await redis.exists(routeKey())) === 0, 10_000, 50);
    for (let i = 0; i < 100; i++) await bobAdmin.sendMessage(bobConnection, `offline-${i}`);
    await waitFor("100 messages in the mailbox", async () => (await redis.llen(mailboxKey())) === 100, 60_000, 200);
    // The deployment's mailbox gauge (counted by the shims in Redis, exported by every relay) sees them.
    const waiting = () =>
      metricValue(relays[0]?.metrics as TestRelay["metrics"], "acapy_bridge_wallet_mailbox_messages");
    await waitFor("the mailbox gauge at 100", async () => (await waiting()) === 100, 10_000, 100);
    // Bob's ACA-Py delivers concurrently, so the mailbox order is the order the mediator accepted them in.
    const before = wallet.inbox.length;
    const mailboxOrder = await mailboxContents(mailboxKey());
    await wallet.reconnect(relays[1]?.wsUrl);
    const got = await wallet.waitForInbox((r) => String(r.message.content ?? "").startsWith("offline-"), 100, 30_000);
    expect(got).toHaveLength(100);
    expect(wallet.inbox.slice(before).map((r) => r.message["@id"])).toEqual(mailboxOrder);
    expect(await redis.llen(mailboxKey())).toBe(0);
    await waitFor("the mailbox gauge back at 0", async () => (await waiting()) === 0, 10_000, 100);
  });

  it("returns frames written to a socket that died without a close frame to the wallet on its next session", async () => {
    // Connected straight to relay 0, then the phone goes silent: no reads, no pongs, no close frame.
    await wallet.closeSocket();
    await wallet.reconnect(relays[0]?.wsUrl);
    await waitFor(
      "route on relay 0",
      async () => (await redis.getBuffer(routeKey()))?.includes(relays[0]?.relay.relayId ?? "?") === true,
      10_000,
      50,
    );
    wallet.freezeSocket();
    const returnedBefore = await metricValue(
      relays[0]?.metrics as TestRelay["metrics"],
      "acapy_bridge_relay_wallet_pushes_total",
      {
        result: "returned_to_mailbox",
      },
    );
    for (let i = 0; i < 5; i++) await bobAdmin.sendMessage(bobConnection, `unconfirmed-${i}`);
    // The relay writes them, gets no pong, terminates the socket and puts them back in the mailbox.
    await waitFor(
      "unconfirmed frames returned to the mailbox",
      async () =>
        (await metricValue(relays[0]?.metrics as TestRelay["metrics"], "acapy_bridge_relay_wallet_pushes_total", {
          result: "returned_to_mailbox",
        })) > returnedBefore,
      20_000,
      100,
    );
    wallet.destroySocket(); // whatever sat unread in the socket is gone with it
    await wallet.reconnect(relays[1]?.wsUrl);
    const got = await wallet.waitForInbox((r) => String(r.message.content ?? "").startsWith("unconfirmed-"), 5, 30_000);
    expect(got.map((r) => r.message.content).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `unconfirmed-${i}`));
  });

  async function mailboxContents(key: string): Promise<string[]> {
    const { decodeEnvelope, WalletMessageSchema } = await import("@acapy-bridge/protocol");
    const items = await redis.lrangeBuffer(key, 0, -1);
    // The wallet message bodies are envelopes for the wallet: open them to read their @id.
    return items.map((raw) => {
      const message = decodeEnvelope(WalletMessageSchema, raw);
      return wallet.agent.unpack<{ "@id": string }>(message.body).message["@id"];
    });
  }
});
