// kill -9 of the relay process that holds every wallet's socket, while messages for all of them
// flow: a real ACA-Py mediator (--open-mediation, PostgreSQL wallet), a relay as its own OS
// process (the one killed), a surviving relay, a load balancer, 100 simulated wallets in this
// process, and a correspondent that forwards through the mediator as any agent would.
import { randomUUID } from "node:crypto";
import { TestAgent } from "@acapy-bridge/didcomm-test-agent";
import {
  AcaPyAdmin,
  type AcaPyProcess,
  type BridgeProcess,
  PostgresServer,
  TcpLoadBalancer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { postUntilTaken } from "../test-fixtures/forward-until-taken.js";
import { inParallel } from "../test-fixtures/in-parallel.js";
import {
  keyspaceOf,
  mediator,
  metricValue,
  startRelayProcess,
  startTestRelay,
  type TestRelay,
} from "../test-fixtures/mediator-deployment.js";
import { MobileWallet, type OobInvitation } from "./index.js";

const BASIC = "https://didcomm.org/basicmessage/1.0/message";
const WALLETS = Number(process.env.FAILOVER_WALLETS ?? 100);
const MESSAGES_PER_WALLET = Number(process.env.FAILOVER_MESSAGES_PER_WALLET ?? 5);
/** Wallets joining at once: keeps the mediator busy without queueing joins past their timeouts. */
const JOIN_CONCURRENCY = 6;
/** Forwards in flight at once from the correspondent. */
const SEND_CONCURRENCY = 8;
/** Share of the traffic sent before the kill; the rest flows while the relay is dead and after. */
const KILL_AFTER_SHARE = 0.3;
/**
 * Every 10th wallet is a phone in the background: it comes back only after the janitor has
 * declared the relay dead (10 s without heartbeat) and handed its inbox on, so its messages go
 * through the mailbox; the others reconnect at once and get theirs through the surviving relay.
 */
const BACKGROUND_EVERY = 10;
const BACKGROUND_OFFLINE_MS = 15_000;

interface WalletUnderTest {
  wallet: MobileWallet;
  /** The key the correspondent writes to, registered with the mediator by keylist update. */
  routedKey: string;
  sent: Set<string>;
  background: boolean;
}

describe("relay failover: kill -9 of the relay holding the wallets' sockets", () => {
  const redisUrl = inject("redisUrl");
  const prefix = uniquePrefix("e2e-failover");
  const keyspace = keyspaceOf(redisUrl, prefix);
  const doomedId = `relay-doomed-${randomUUID().slice(0, 8)}`;
  let redis: Redis;
  let postgres: PostgresServer;
  let doomed: BridgeProcess;
  let survivor: TestRelay;
  let balancer: TcpLoadBalancer;
  let mediatorProcess: AcaPyProcess;
  let correspondent: TestAgent;
  const wallets: WalletUnderTest[] = [];
  /** POSTs sent again because the first try failed (the relay died under it, or refused). */
  let resentForwards = 0;

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    [postgres, doomed, survivor, correspondent] = await Promise.all([
      PostgresServer.start(),
      startRelayProcess(redisUrl, prefix, doomedId),
      startTestRelay(redisUrl, prefix),
      TestAgent.create("correspondent"),
    ]);
    // Every wallet's socket lands on the doomed relay: the balancer knows no other one yet.
    balancer = await TcpLoadBalancer.start([doomed.address("http")]);
    mediatorProcess = await mediator({
      label: "mediator",
      redisUrl,
      prefix,
      endpoint: balancer.url,
      walletArgs: postgres.walletArgs("mediator"),
    });
    const admin = new AcaPyAdmin(mediatorProcess.adminUrl);
    const started = Date.now();
    const labels = Array.from({ length: WALLETS }, (_, i) => `wallet-${i}`);
    const join = async (label: string, index: number) => {
      const wallet = await MobileWallet.create(label);
      const invitation = (await admin.createInvitation("mediator")) as OobInvitation;
      try {
        await wallet.joinMediator(invitation, balancer.url.replace("http:", "ws:"), 60_000);
      } catch (error) {
        const mediatorErrors = mediatorProcess.logs
          .split("\n")
          .filter((line) => /error|exception|traceback/i.test(line))
          .slice(-20)
          .join("\n");
        console.error(`[relay-failover] ${label} could not join; the mediator's last errors:\n${mediatorErrors}`);
        throw new Error(`${(error as Error).message}; ${await walletState(wallet)}`);
      }
      // A key the wallet would hand to a correspondent in its did:peer: routed through the mediator.
      const routedKey = wallet.agent.addKey().verkey;
      await wallet.addRoutingKey(routedKey);
      const background = index % BACKGROUND_EVERY === 0;
      wallet.keepConnected({ offlineAfterDropMs: background ? BACKGROUND_OFFLINE_MS : 0 });
      wallets.push({ wallet, routedKey, sent: new Set(), background });
    };
    // Concurrent first grants: the shim created the routing DID at startup, so none races on it.
    await inParallel(labels, JOIN_CONCURRENCY, (label, index) => join(label, index));
    console.log(`[relay-failover] ${wallets.length} wallets joined the mediator in ${Date.now() - started} ms`);
    // From now on the balancer also knows the survivor, and skips a backend that refuses connections.
    balancer.setBackends([doomed.address("http"), survivor.url.replace("http://", "")]);
  }, 600_000);

  afterAll(async () => {
    await Promise.all(wallets.map((w) => w.wallet.closeSocket()));
    await mediatorProcess?.stop();
    await balancer?.close();
    await doomed?.kill();
    await survivor?.relay.stop();
    await postgres?.stop();
    redis?.disconnect();
  });

  /** POSTs one forward for the wallet's routed key to its mediator, resending until a relay took it (as agents do). */
  async function sendForward(target: WalletUnderTest, content: string): Promise<void> {
    const routing = target.wallet.routing;
    if (!routing) throw new Error(`${target.wallet.label} has no mediation grant`);
    const id = randomUUID();
    const packed = correspondent.pack(
      { "@type": BASIC, "@id": id, content, sent_time: new Date().toISOString() },
      [target.routedKey],
      { routingKeys: routing.routingKeys },
    );
    target.sent.add(id);
    await postUntilTaken(routing.endpoint, packed, target.wallet.label, () => {
      resentForwards++;
    });
  }

  /** Where the wallet's messages are in Redis, for failure messages. */
  async function walletState(wallet: MobileWallet): Promise<string> {
    const route = await redis.getBuffer(keyspace.key("walletRoute", { recipient: wallet.verkey }));
    const mailbox = await redis.llen(keyspace.key("walletMailbox", { recipient: wallet.verkey }));
    return `connected=${wallet.connected}, reconnects=${wallet.reconnects}, route=${route ? "set" : "none"}, mailbox=${mailbox}`;
  }

  async function missingReport(): Promise<string> {
    const lines: string[] = [];
    for (const { wallet, sent } of wallets) {
      const got = new Set(wallet.inbox.map((r) => r.message["@id"]));
      const missing = [...sent].filter((id) => !got.has(id));
      if (missing.length === 0) continue;
      lines.push(`${wallet.label}: ${missing.length} missing, ${await walletState(wallet)}`);
    }
    return lines.join("\n");
  }

  it("delivers every message to its wallet after the wallets reconnect to the surviving relay; none is lost", async () => {
    expect(wallets).toHaveLength(WALLETS);
    expect(wallets.every((w) => w.wallet.connected)).toBe(true);
    // Round-robin over the wallets, so each gets messages before, during and after the kill.
    const sends = Array.from({ length: WALLETS * MESSAGES_PER_WALLET }, (_, i) => ({
      target: wallets[i % WALLETS] as WalletUnderTest,
      content: `msg-${i}`,
    }));
    let accepted = 0;
    const trafficStarted = Date.now();
    const traffic = inParallel(sends, SEND_CONCURRENCY, async ({ target, content }) => {
      await sendForward(target, content);
      accepted++;
    });

    await waitFor("traffic before the kill", () => accepted >= sends.length * KILL_AFTER_SHARE, 120_000, 20);
    const deliveredBeforeKill = wallets.reduce((n, w) => n + w.wallet.inbox.length, 0);
    await doomed.kill();
    const killedAt = Date.now();
    const acceptedAtKill = accepted;

    await traffic;
    const trafficDone = Date.now();
    const reconnectedAfterKill = (background: boolean) =>
      Math.max(...wallets.filter((w) => w.background === background).map((w) => w.wallet.reconnectedAt ?? 0)) -
      killedAt;
    const hasEverything = ({ wallet, sent }: WalletUnderTest) => {
      const got = new Set(wallet.inbox.map((r) => r.message["@id"]));
      return [...sent].every((id) => got.has(id));
    };
    const everyMessageArrived = () => wallets.every(hasEverything);
    // When the last wallet of each group had all its messages (polled from the end of the traffic, within 50 ms).
    const completedAfterKill: Record<"prompt" | "background", number | undefined> = {
      prompt: undefined,
      background: undefined,
    };
    try {
      await waitFor(
        "every message in its wallet",
        () => {
          for (const group of ["prompt", "background"] as const) {
            const members = wallets.filter((w) => w.background === (group === "background"));
            if (completedAfterKill[group] === undefined && members.every(hasEverything)) {
              completedAfterKill[group] = Date.now() - killedAt;
            }
          }
          return everyMessageArrived();
        },
        120_000,
        50,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${await missingReport()}`);
    }

    await waitFor(
      "every wallet reconnected",
      () => wallets.every((w) => w.wallet.connected && w.wallet.reconnects >= 1),
      60_000,
      50,
    );
    // The janitor handed the dead relay's inbox on, then removed it and its membership.
    await waitFor(
      "the dead relay's inbox recovered",
      async () =>
        (await redis.exists(keyspace.key("relayInbox", { relay: doomedId }))) === 0 &&
        (await redis.zscore(keyspace.key("members", { role: "relay" }), doomedId)) === null,
      60_000,
      200,
    );
    const recovered = await metricValue(survivor.metrics, "acapy_bridge_relay_janitor_recovered_total");
    const sent = wallets.reduce((n, w) => n + w.sent.size, 0);
    const duplicates = wallets.reduce((n, w) => n + w.wallet.duplicates, 0);
    const unexpected = wallets.reduce(
      (n, { wallet, sent: ids }) => n + wallet.inbox.filter((r) => !ids.has(r.message["@id"])).length,
      0,
    );
    const backgroundCount = wallets.filter((w) => w.background).length;
    const droppedAfterKill = Math.max(...wallets.map((w) => w.wallet.droppedAt ?? 0)) - killedAt;
    console.log(
      `[relay-failover] ${sent} messages to ${wallets.length} wallets sent in ${trafficDone - trafficStarted} ms ` +
        `(traffic ended ${trafficDone - killedAt} ms after the kill); ` +
        `kill -9 of the relay holding all ${wallets.length} sockets after ${acceptedAtKill} accepted, ` +
        `${deliveredBeforeKill} delivered; ${resentForwards} forwards POSTed again after a failed try`,
    );
    console.log(
      `[relay-failover] ${wallets.length - backgroundCount} prompt wallets: all reconnected ` +
        `${reconnectedAfterKill(false)} ms after the kill (the last drop noticed ${droppedAfterKill} ms after it), ` +
        `all their messages in ${completedAfterKill.prompt} ms; ` +
        `${backgroundCount} background wallets (away ${BACKGROUND_OFFLINE_MS} ms): reconnected ` +
        `${reconnectedAfterKill(true)} ms after the kill, all their messages in ${completedAfterKill.background} ms`,
    );
    console.log(
      `[relay-failover] none lost; duplicates discarded by the wallets: ${duplicates}; ` +
        `janitor re-routed ${recovered} entries of the dead relay's inbox; ` +
        `failed reconnect attempts: ${wallets.reduce((n, w) => n + w.wallet.failedReconnects, 0)}`,
    );
    expect(sent).toBe(WALLETS * MESSAGES_PER_WALLET);
    expect(everyMessageArrived()).toBe(true);
    expect(unexpected).toBe(0);
    // The background wallets' routes named the dead relay for its whole dead window: the shim
    // kept pushing to its inbox, so the janitor had entries to hand on.
    expect(recovered).toBeGreaterThan(0);
  }, 600_000);
});
