// Issue 6, "done when" 5: a mailbox at its cap, or a message past its TTL, becomes a dead letter
// with its reason, visible in metrics and in the control API. End to end: a real ACA-Py mediator
// (--open-mediation, the shim with a small cap and a short TTL) behind a relay, real Redis, simulated
// mobile wallets that go offline, a plain ACA-Py correspondent (Bob) whose messages the mediator forwards.
import { ControlClient, ControlServer } from "@acapy-bridge/control";
import {
  type DeadLetterEntry,
  DeadLetterReason,
  decodeEnvelope,
  ensureTopology,
  type GetWalletResponse,
  type Keyspace,
  type ListDeadLettersResponse,
  QueueFamily,
  type WalletMessage,
  WalletMessageSchema,
} from "@acapy-bridge/protocol";
import { AcaPyAdmin, type AcaPyProcess, uniquePrefix, waitFor } from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  connectionOf,
  mediator,
  metricValue,
  plainAgent,
  startTestRelay,
  type TestRelay,
} from "../test-fixtures/mediator-deployment.js";
import { MobileWallet, type OobInvitation } from "./index.js";

const BASIC = "https://didcomm.org/basicmessage/1.0/message";
const MAILBOX_CAP = 3;
const MAILBOX_TTL_S = 8;
const WALLET_DEAD_LETTERS = "acapy_bridge_wallet_dead_letters_total";

describe("mailbox limits: a full mailbox and expired messages become dead letters", () => {
  const prefix = uniquePrefix("e2e-mailbox");
  let redis: Redis;
  let keyspace: Keyspace;
  let relay: TestRelay;
  let mediatorProcess: AcaPyProcess | undefined;
  let bob: AcaPyProcess | undefined;
  let bobAdmin: AcaPyAdmin;
  let controlServer: ControlServer | undefined;
  let control: ControlClient | undefined;
  const wallets: MobileWallet[] = [];

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    redis = new Redis(redisUrl);
    keyspace = await ensureTopology(redis, prefix, connectionOf(redisUrl, prefix).partitions);
    [relay, bob] = await Promise.all([startTestRelay(redisUrl, prefix), plainAgent("bob")]);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
    mediatorProcess = await mediator({
      label: "mediator",
      redisUrl,
      prefix,
      endpoint: relay.url,
      shimSettings: [
        `acapy_bridge_shim.mailbox.max_messages=${MAILBOX_CAP}`,
        `acapy_bridge_shim.mailbox.ttl_s=${MAILBOX_TTL_S}`,
      ],
    });
    // The operators' control API, as `acapy-bridge` serves it, on this deployment's Redis.
    controlServer = new ControlServer({ client: redis, keyspace, isServing: () => true });
    control = new ControlClient(`127.0.0.1:${await controlServer.listen("127.0.0.1", 0)}`);
  });

  afterAll(async () => {
    await Promise.all(wallets.map((w) => w.closeSocket()));
    control?.close();
    await controlServer?.close();
    await Promise.all([mediatorProcess?.stop(), bob?.stop()]);
    await relay?.relay.stop();
    redis?.disconnect();
  });

  /** A wallet with a mediator session on the relay and a connection to Bob (Bob's connection id). */
  async function walletConnectedToBob(label: string): Promise<{ wallet: MobileWallet; bobConnection: string }> {
    const wallet = await MobileWallet.create(label);
    wallets.push(wallet);
    const invitation = (await new AcaPyAdmin(mediatorProcess?.adminUrl as string).createInvitation(
      "mediator",
    )) as OobInvitation;
    await wallet.joinMediator(invitation, relay.wsUrl);
    const bobInvitation = (await bobAdmin.createInvitation("bob")) as OobInvitation;
    await wallet.acceptInvitation(bobInvitation);
    const bobConnection = await waitFor(
      `bob's connection to ${label}`,
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
    return { wallet, bobConnection };
  }

  /** One message pushed live (so the relay knows the wallet's key on this socket), then the phone goes offline. */
  async function takeOffline(wallet: MobileWallet, bobConnection: string): Promise<void> {
    await bobAdmin.sendMessage(bobConnection, `${wallet.label} still online`);
    await wallet.waitForInbox((r) => r.message.content === `${wallet.label} still online`, 1, 30_000);
    await wallet.closeSocket();
    // The relay removes the route of a socket that closed: from now on the shim offers to the mailbox.
    await waitFor("route removed", async () => (await walletStatus(wallet)).route === undefined, 10_000, 100);
  }

  function walletStatus(wallet: MobileWallet): Promise<GetWalletResponse> {
    return (control as ControlClient).getWallet(wallet.verkey) as Promise<GetWalletResponse>;
  }

  async function deadLettersOf(wallet: MobileWallet, reason: DeadLetterReason): Promise<DeadLetterEntry[]> {
    const { entries } = (await (control as ControlClient).listDeadLetters(
      QueueFamily.OUTBOUND,
      1000,
    )) as ListDeadLettersResponse;
    return entries.filter(
      (e) =>
        e.deadLetter?.reason === reason &&
        e.deadLetter.original.case === "walletMessage" &&
        e.deadLetter.original.value.recipientKey === wallet.verkey,
    );
  }

  async function mailboxOf(wallet: MobileWallet): Promise<WalletMessage[]> {
    const items = await redis.lrangeBuffer(keyspace.key("walletMailbox", { recipient: wallet.verkey }), 0, -1);
    return items.map((raw) => decodeEnvelope(WalletMessageSchema, raw));
  }

  /** What Bob wrote: the wallet messages are envelopes for the wallet, so the wallet opens them. */
  function contentOf(wallet: MobileWallet, message: WalletMessage): string {
    return String(wallet.agent.unpack<{ content?: string }>(message.body).message.content);
  }

  function walletDeadLetterMetric(reason: string): Promise<number> {
    return metricValue(relay.metrics, WALLET_DEAD_LETTERS, { reason });
  }

  it("keeps an offline wallet's mailbox at its cap and dead-letters the rest as MAILBOX_FULL, counted in the relay's metrics and listed by the control API", async () => {
    const { wallet, bobConnection } = await walletConnectedToBob("wallet-full");
    await takeOffline(wallet, bobConnection);
    expect(await walletDeadLetterMetric("MAILBOX_FULL")).toBe(0);

    const sent = Array.from({ length: MAILBOX_CAP + 2 }, (_, i) => `full-${i}`);
    for (const content of sent) await bobAdmin.sendMessage(bobConnection, content);

    const full = await waitFor(
      "two MAILBOX_FULL dead letters",
      async () => {
        const found = await deadLettersOf(wallet, DeadLetterReason.MAILBOX_FULL);
        return found.length === 2 ? found : undefined;
      },
      60_000,
      200,
    );
    const status = await walletStatus(wallet);
    expect(status.mailboxDepth).toBe(BigInt(MAILBOX_CAP));
    expect(status.route).toBeUndefined();
    // Nothing lost: what the mailbox holds and what was dead-lettered are together what Bob sent.
    // (Bob's ACA-Py delivers concurrently, so which ones arrived last is not fixed.)
    const kept = (await mailboxOf(wallet)).map((m) => contentOf(wallet, m));
    const refused = full.map((e) => contentOf(wallet, e.deadLetter?.original.value as WalletMessage));
    expect([...kept, ...refused].sort()).toEqual(sent);
    for (const entry of full) {
      expect(entry.deadLetter?.detail).toBe(`mailbox holds ${MAILBOX_CAP} messages`);
      expect(entry.deadLetter?.sourceKey).toBe(keyspace.key("walletMailbox", { recipient: wallet.verkey }));
    }
    expect(await walletDeadLetterMetric("MAILBOX_FULL")).toBe(2);
    expect(await walletDeadLetterMetric("EXPIRED")).toBe(0);
    expect(await relay.metrics.metrics()).toMatch(
      /acapy_bridge_wallet_dead_letters_total\{reason="MAILBOX_FULL"[^}]*\} 2/,
    );
  });

  it("dead-letters mailbox messages past their TTL as EXPIRED when the wallet reconnects, and delivers the fresh ones", async () => {
    const { wallet, bobConnection } = await walletConnectedToBob("wallet-ttl");
    await takeOffline(wallet, bobConnection);
    const expiredBefore = await walletDeadLetterMetric("EXPIRED");

    for (const content of ["stale-0", "stale-1"]) await bobAdmin.sendMessage(bobConnection, content);
    const stale = await waitFor(
      "two stale messages in the mailbox",
      async () => {
        const waiting = await mailboxOf(wallet);
        return waiting.length === 2 ? waiting : undefined;
      },
      60_000,
      100,
    );
    for (const m of stale) expect(Number(m.expiresAtMs - m.createdAtMs)).toBe(MAILBOX_TTL_S * 1000);
    const staleExpiry = Math.max(...stale.map((m) => Number(m.expiresAtMs)));
    await waitFor("the stale messages' TTL passed", () => Date.now() > staleExpiry + 100, 30_000, 100);

    await bobAdmin.sendMessage(bobConnection, "fresh");
    await waitFor("the fresh message in the mailbox", async () => (await walletStatus(wallet)).mailboxDepth === 3n);
    await wallet.reconnect(relay.wsUrl);

    await wallet.waitForInbox((r) => r.message["@type"] === BASIC && r.message.content === "fresh", 1, 30_000);
    const expired = await waitFor(
      "two EXPIRED dead letters",
      async () => {
        const found = await deadLettersOf(wallet, DeadLetterReason.EXPIRED);
        return found.length === 2 ? found : undefined;
      },
      30_000,
      200,
    );
    expect(expired.map((e) => contentOf(wallet, e.deadLetter?.original.value as WalletMessage)).sort()).toEqual([
      "stale-0",
      "stale-1",
    ]);
    expect(expired.every((e) => e.deadLetter?.detail === "expired in the mailbox")).toBe(true);
    // The stale ones never reached the wallet; the mailbox is empty and the wallet has a live route again.
    expect(wallet.inbox.filter((r) => String(r.message.content).startsWith("stale-"))).toEqual([]);
    const status = await walletStatus(wallet);
    expect(status.mailboxDepth).toBe(0n);
    expect(status.route?.relayId).toBe(relay.relay.relayId);
    expect(status.relayAlive).toBe(true);
    expect(await walletDeadLetterMetric("EXPIRED")).toBe(expiredBefore + 2);
  });
});
