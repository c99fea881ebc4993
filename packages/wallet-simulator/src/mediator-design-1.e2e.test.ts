// Mediator Design 1 end to end: three ACA-Py mediator instances with their own HTTP and WebSocket
// transports and the shim (own_transports) behind TCP load balancers, one PostgreSQL wallet, real
// Redis, no relay and no controller; 50 simulated wallets joined round robin through the balancer,
// and a plain ACA-Py correspondent whose messages land on any instance.
import { decodeEnvelope, WalletMessageSchema, WalletRouteSchema } from "@acapy-bridge/protocol";
import {
  AcaPyAdmin,
  type AcaPyProcess,
  Design1Deployment,
  PostgresServer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { inParallel } from "../test-fixtures/in-parallel.js";
import { keyspaceOf, plainAgent } from "../test-fixtures/mediator-deployment.js";
import { MobileWallet, type OobInvitation } from "./index.js";

const BASIC = "https://didcomm.org/basicmessage/1.0/message";
const WALLETS = Number(process.env.DESIGN1_WALLETS ?? 50);
const INSTANCES = 3;
const JOIN_CONCURRENCY = 6;
const OFFLINE_WALLETS = 5;
const OFFLINE_MESSAGES = 10;

interface Member {
  wallet: MobileWallet;
  /** Bob's connection to this wallet. */
  bobConnection: string;
}

describe("mediator Design 1: ACA-Py's own transports coordinated through Redis", () => {
  const redisUrl = inject("redisUrl");
  const prefix = uniquePrefix("e2e-design1");
  const keyspace = keyspaceOf(redisUrl, prefix);
  let redis: Redis;
  let postgres: PostgresServer;
  let deployment: Design1Deployment;
  let bob: AcaPyProcess;
  let bobAdmin: AcaPyAdmin;
  const members: Member[] = [];

  const routeOf = (wallet: MobileWallet) => redis.getBuffer(keyspace.key("walletRoute", { recipient: wallet.verkey }));
  const mailboxKey = (wallet: MobileWallet) => keyspace.key("walletMailbox", { recipient: wallet.verkey });

  /** Where a wallet's messages are in Redis, for failure messages. */
  async function walletState(wallet: MobileWallet): Promise<string> {
    const route = await routeOf(wallet);
    const holder = route ? decodeEnvelope(WalletRouteSchema, route).relayId : "none";
    return `connected=${wallet.connected}, route=${holder}, mailbox=${await redis.llen(mailboxKey(wallet))}`;
  }

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    [postgres, bob] = await Promise.all([PostgresServer.start(), plainAgent("bob")]);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
    deployment = await Design1Deployment.start({ shim: true, redisUrl, prefix, postgres }, INSTANCES);
    await deployment.socketHoldersUp(redis);
    const started = Date.now();
    await inParallel(
      Array.from({ length: WALLETS }, (_, i) => i),
      JOIN_CONCURRENCY,
      async (i) => {
        const wallet = await MobileWallet.create(`wallet-${i}`);
        // The invitation from any instance (the database is shared), the socket through the balancer.
        const admin = deployment.instances[i % INSTANCES]?.admin as AcaPyAdmin;
        const invitation = (await admin.createInvitation("mediator")) as OobInvitation;
        await wallet.joinMediator(invitation, deployment.wsUrl, 60_000);
        // As a phone does: a socket the mediator dropped (a missed heartbeat on this busy machine) is reopened.
        wallet.keepConnected();
        const bobInvitation = (await bobAdmin.createInvitation("bob")) as OobInvitation;
        await wallet.acceptInvitation(bobInvitation, 60_000);
        const bobConnection = await bobAdmin.connectionFromInvitation(String(bobInvitation["@id"]));
        members.push({ wallet, bobConnection });
      },
    );
    console.log(`[design-1] ${members.length} wallets joined and connected to bob in ${Date.now() - started} ms`);
  }, 900_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => m.wallet.closeSocket()));
    await deployment?.stop();
    await bob?.stop();
    await postgres?.stop();
    redis?.disconnect();
  });

  it("delivers every message a plain ACA-Py agent sends through the mediator, whichever instance the forward lands on", async () => {
    expect(members).toHaveLength(WALLETS);
    // The wallets' sockets are spread over the three instances.
    const holders = new Set<string>();
    for (const { wallet } of members) {
      const route = await routeOf(wallet);
      expect(route, `${wallet.label} has a route`).not.toBeNull();
      holders.add(decodeEnvelope(WalletRouteSchema, route as Buffer).relayId);
    }
    expect(holders.size).toBe(INSTANCES);
    const started = Date.now();
    await inParallel(members, 8, async ({ wallet, bobConnection }) => {
      await bobAdmin.sendMessage(bobConnection, `hello ${wallet.label}`);
    });
    const hasHello = ({ wallet }: Member) =>
      wallet.inbox.some((r) => r.message["@type"] === BASIC && r.message.content === `hello ${wallet.label}`);
    try {
      await waitFor("every wallet has bob's message", () => members.every(hasHello), 120_000, 100);
    } catch (error) {
      const lines = await Promise.all(
        members.filter((m) => !hasHello(m)).map(async ({ wallet }) => `${wallet.label}: ${await walletState(wallet)}`),
      );
      throw new Error(`${(error as Error).message}\n${lines.join("\n")}`);
    }
    console.log(`[design-1] ${members.length} messages from bob delivered live in ${Date.now() - started} ms`);
  }, 300_000);

  it("keeps messages for offline wallets and delivers all, in mailbox order, when they reconnect to any instance", async () => {
    const offline = members.slice(0, OFFLINE_WALLETS);
    await Promise.all(offline.map((m) => m.wallet.closeSocket()));
    for (const { wallet } of offline) {
      await waitFor(`${wallet.label}'s route cleared`, async () => (await routeOf(wallet)) === null, 15_000, 50);
    }
    await inParallel(offline, OFFLINE_WALLETS, async ({ wallet, bobConnection }) => {
      for (let i = 0; i < OFFLINE_MESSAGES; i++)
        await bobAdmin.sendMessage(bobConnection, `${wallet.label} offline-${i}`);
    });
    for (const { wallet } of offline) {
      await waitFor(
        `${OFFLINE_MESSAGES} messages in ${wallet.label}'s mailbox`,
        async () => (await redis.llen(mailboxKey(wallet))) === OFFLINE_MESSAGES,
        60_000,
        100,
      );
    }
    for (const { wallet } of offline) {
      const mailboxOrder = (await redis.lrangeBuffer(mailboxKey(wallet), 0, -1)).map(
        (raw) => wallet.agent.unpack<{ "@id": string }>(decodeEnvelope(WalletMessageSchema, raw).body).message["@id"],
      );
      const before = wallet.inbox.length;
      // Round robin: the wallets come back on other instances than before.
      await wallet.reconnect(deployment.wsUrl);
      await wallet.waitForInbox(
        (r) => String(r.message.content ?? "").startsWith(`${wallet.label} offline-`),
        OFFLINE_MESSAGES,
        30_000,
      );
      expect(wallet.inbox.slice(before).map((r) => r.message["@id"])).toEqual(mailboxOrder);
      expect(await redis.llen(mailboxKey(wallet))).toBe(0);
    }
  }, 300_000);
});
