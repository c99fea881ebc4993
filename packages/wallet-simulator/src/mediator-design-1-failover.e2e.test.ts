// Mediator Design 1, kill -9 of the instance holding 20 wallets' sockets during traffic: three ACA-Py
// mediator instances (own HTTP and WebSocket transports) behind TCP load balancers, one PostgreSQL
// wallet, real Redis. With the shim (own_transports) every message must reach its wallet after
// the wallets reconnected to the surviving instances; the same scenario with plain ACA-Py
// instances (in-memory undelivered queue) is the control, whose losses are reported.
import { randomUUID } from "node:crypto";
import { TestAgent } from "@acapy-bridge/didcomm-test-agent";
import {
  Design1Deployment,
  type Design1Instance,
  PostgresServer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postUntilTaken } from "../test-fixtures/forward-until-taken.js";
import { inParallel } from "../test-fixtures/in-parallel.js";
import { keyspaceOf } from "../test-fixtures/mediator-deployment.js";
import { MobileWallet, type OobInvitation } from "./index.js";

const BASIC = "https://didcomm.org/basicmessage/1.0/message";
const WALLETS = 20;
const MESSAGES_PER_WALLET = 10;
const JOIN_CONCURRENCY = 5;
const SEND_CONCURRENCY = 8;
const KILL_AFTER_SHARE = 0.3;
/** Every 5th wallet is a phone in the background: back only after the dead window and a janitor round. */
const BACKGROUND_EVERY = 5;
const BACKGROUND_OFFLINE_MS = 15_000;
/** The control's wallets get this long after the traffic to receive what they will. */
const CONTROL_SETTLE_MS = 20_000;

interface WalletUnderTest {
  wallet: MobileWallet;
  routedKey: string;
  sent: Set<string>;
}

interface KillReport {
  sent: number;
  delivered: number;
  missing: number;
  resentForwards: number;
  duplicates: number;
}

/**
 * Joins WALLETS wallets through the doomed instance only, then balances over all three, sends
 * MESSAGES_PER_WALLET forwards per wallet through the HTTP balancer (resent while a POST fails, as
 * agents do), kills -9 the doomed instance after KILL_AFTER_SHARE of them, and waits for delivery.
 */
async function killScenario(
  deployment: Design1Deployment,
  correspondent: TestAgent,
  waitForAll: (wallets: WalletUnderTest[]) => Promise<void>,
): Promise<KillReport> {
  const [doomed] = deployment.instances as [Design1Instance];
  deployment.balanceOver([doomed]);
  const wallets: WalletUnderTest[] = [];
  const join = async (i: number) => {
    const wallet = await MobileWallet.create(`wallet-${i}`);
    const invitation = (await doomed.admin.createInvitation("mediator")) as OobInvitation;
    await wallet.joinMediator(invitation, deployment.wsUrl, 60_000);
    const routedKey = wallet.agent.addKey().verkey;
    await wallet.addRoutingKey(routedKey);
    wallet.keepConnected({ offlineAfterDropMs: i % BACKGROUND_EVERY === 0 ? BACKGROUND_OFFLINE_MS : 0 });
    wallets.push({ wallet, routedKey, sent: new Set() });
  };
  // Plain ACA-Py creates its routing DID at its first grant, and concurrent first grants race for it
  // (the losers' wallets never get one: what the shim's mediator_setup takes out of the way). The
  // control measures losses at a kill, not that race: its first wallet joins alone.
  await join(0);
  await inParallel(
    Array.from({ length: WALLETS - 1 }, (_, i) => i + 1),
    JOIN_CONCURRENCY,
    join,
  );
  deployment.balanceOver(deployment.instances);
  let resentForwards = 0;
  const sendForward = async (target: WalletUnderTest, content: string) => {
    const routing = target.wallet.routing;
    if (!routing) throw new Error(`${target.wallet.label} has no mediation grant`);
    const id = randomUUID();
    const packed = correspondent.pack({ "@type": BASIC, "@id": id, content }, [target.routedKey], {
      routingKeys: routing.routingKeys,
    });
    target.sent.add(id);
    await postUntilTaken(routing.endpoint, packed, target.wallet.label, () => {
      resentForwards++;
    });
  };
  const sends = Array.from({ length: WALLETS * MESSAGES_PER_WALLET }, (_, i) => ({
    target: wallets[i % WALLETS] as WalletUnderTest,
    content: `msg-${i}`,
  }));
  let accepted = 0;
  const traffic = inParallel(sends, SEND_CONCURRENCY, async ({ target, content }) => {
    await sendForward(target, content);
    accepted++;
  });
  await waitFor("traffic before the kill", () => accepted >= sends.length * KILL_AFTER_SHARE, 120_000, 20);
  await doomed.process.kill();
  await traffic;
  await waitForAll(wallets);
  const delivered = wallets.reduce(
    (n, { wallet, sent }) => n + new Set(wallet.inbox.map((r) => r.message["@id"]).filter((id) => sent.has(id))).size,
    0,
  );
  const report = {
    sent: sends.length,
    delivered,
    missing: sends.length - delivered,
    resentForwards,
    duplicates: wallets.reduce((n, w) => n + w.wallet.duplicates, 0),
  };
  await Promise.all(wallets.map((w) => w.wallet.closeSocket()));
  return report;
}

const everyMessageArrived = (wallets: WalletUnderTest[]) =>
  wallets.every(({ wallet, sent }) => {
    const got = new Set(wallet.inbox.map((r) => r.message["@id"]));
    return [...sent].every((id) => got.has(id));
  });

describe("mediator Design 1: kill -9 of the instance holding 20 wallets' sockets", () => {
  const redisUrl = inject("redisUrl");
  let redis: Redis;
  let postgres: PostgresServer;
  let correspondent: TestAgent;
  const deployments: Design1Deployment[] = [];

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    [postgres, correspondent] = await Promise.all([PostgresServer.start(), TestAgent.create("correspondent")]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(deployments.map((d) => d.stop()));
    await postgres?.stop();
    redis?.disconnect();
  });

  it("with the shim: every message reaches its wallet after reconnection; none lost", async () => {
    const prefix = uniquePrefix("e2e-design1-kill");
    const deployment = await Design1Deployment.start(
      { shim: true, redisUrl, prefix, postgres, walletName: "design1-shim" },
      3,
    );
    deployments.push(deployment);
    const holders = await deployment.socketHoldersUp(redis);
    const report = await killScenario(deployment, correspondent, async (wallets) => {
      await waitFor("every message in its wallet", () => everyMessageArrived(wallets), 120_000, 50);
    });
    // The janitor handed the dead instance's inbox on and removed it.
    const keyspace = keyspaceOf(redisUrl, prefix);
    const doomedHolder = await waitFor(
      "the dead instance's socket holder removed",
      async () => {
        const live = await redis.zrangebyscore(keyspace.key("members", { role: "relay" }), "-inf", "+inf");
        return live.length === holders.length - 1 ? holders.find((h) => !live.includes(h)) : undefined;
      },
      60_000,
      200,
    );
    expect(await redis.exists(keyspace.key("relayInbox", { relay: doomedHolder }))).toBe(0);
    console.log(
      `[design-1 kill -9, shim] ${report.sent} sent, ${report.delivered} delivered, ${report.missing} lost; ` +
        `${report.resentForwards} forwards POSTed again after a failed try; ${report.duplicates} duplicates discarded`,
    );
    expect(report.missing).toBe(0);
  }, 600_000);

  it("control, plain ACA-Py instances (no shim): the losses are reported", async () => {
    const deployment = await Design1Deployment.start(
      { shim: false, redisUrl, prefix: uniquePrefix("e2e-design1-control"), postgres, walletName: "design1-plain" },
      3,
    );
    deployments.push(deployment);
    let settledAt = 0;
    const report = await killScenario(deployment, correspondent, async (wallets) => {
      // No condition to wait for: whatever arrives within the settle time counts.
      settledAt = Date.now() + CONTROL_SETTLE_MS;
      await waitFor(
        "the control's settle time",
        () => everyMessageArrived(wallets) || Date.now() >= settledAt,
        CONTROL_SETTLE_MS + 5_000,
        100,
      );
    });
    console.log(
      `[design-1 kill -9, control: plain ACA-Py] ${report.sent} sent, ${report.delivered} delivered, ` +
        `${report.missing} lost (not delivered within ${CONTROL_SETTLE_MS / 1000} s after the traffic); ` +
        `${report.resentForwards} forwards POSTed again; ${report.duplicates} duplicates`,
    );
    expect(report.sent).toBe(WALLETS * MESSAGES_PER_WALLET);
  }, 600_000);
});
