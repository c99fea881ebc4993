// Push notifications to a real Credo-ts 0.5 wallet (its @credo-ts/push-notifications 0.7.1 modules
// register the device with set-device-info) through an ACA-Py mediator behind the bridge; a plain
// ACA-Py agent writes to the wallet while its app is closed. The push services are local stand-ins
// that check what Google (OAuth2 JWT grant, FCM v1) and Apple (HTTP/2 TLS, ES256 provider token,
// headers) check, and the operator's webhook is a sink.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readOutboundDeadLetters } from "@acapy-bridge/deliverer";
import {
  AcaPyAdmin,
  type AcaPyProcess,
  ApnsTestServer,
  FcmTestServer,
  holdStill,
  WebhookSink,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { CredoWallet } from "./credo-wallet.js";
import { CredoMediatorDeployment, credoWalletConnectedTo, plainAgent } from "./mediator-deployment.js";

/** Quick retries, so that a push service that stays down ends in a dead letter within the test. */
const RETRY_FLAGS = [
  "--delivery-max-attempts",
  "3",
  "--delivery-backoff-base-ms",
  "200",
  "--delivery-backoff-cap-ms",
  "500",
];
/** After the offers were made, a second notification would have reached the stand-in by then. */
const SETTLE_MS = 2_000;

describe("push notifications to a Credo wallet whose app is closed", () => {
  let deployment: CredoMediatorDeployment;
  let fcm: FcmTestServer;
  let apns: ApnsTestServer;
  let webhook: WebhookSink;
  let bob: AcaPyProcess;
  let bobAdmin: AcaPyAdmin;
  let redis: Redis;
  const wallets: CredoWallet[] = [];

  beforeAll(async () => {
    [fcm, apns, webhook] = await Promise.all([FcmTestServer.start(), ApnsTestServer.start(), WebhookSink.start()]);
    const accountFile = join(apns.key.keyFile, "../service-account.json");
    writeFileSync(accountFile, JSON.stringify(fcm.serviceAccount));
    const pushFlags = [
      "--push-fcm-service-account-file",
      accountFile,
      "--push-fcm-url",
      fcm.url,
      "--push-apns-key-file",
      apns.key.keyFile,
      "--push-apns-key-id",
      apns.key.keyId,
      "--push-apns-team-id",
      apns.key.teamId,
      "--push-apns-topic",
      apns.key.topic,
      "--push-apns-url",
      apns.url,
      "--push-apns-ca-file",
      apns.caFile,
    ];
    [deployment, bob] = await Promise.all([
      CredoMediatorDeployment.start(inject("redisUrl"), {
        relays: 1,
        mediators: 1,
        delivererArgs: [...pushFlags, ...RETRY_FLAGS],
      }),
      plainAgent("bob"),
    ]);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
    redis = new Redis(inject("redisUrl"));
  });

  afterAll(async () => {
    for (const wallet of wallets) await wallet.stop().catch(() => undefined);
    await bob?.stop();
    await deployment?.stop();
    await Promise.all([fcm?.close(), apns?.close(), webhook?.close()]);
    redis?.disconnect();
  });

  async function connectedWallet(label: string): Promise<{ wallet: CredoWallet; connectionId: string }> {
    const made = await credoWalletConnectedTo(deployment.mediatorAdmin(0), bobAdmin, {
      label,
      pickupStrategy: "Implicit",
    });
    wallets.push(made.wallet);
    return made;
  }

  /** The wallet key the mediator keeps the device (and the mailbox) under, once the token arrived. */
  function deviceRegistered(token: string): Promise<string> {
    return waitFor(
      `the device ${token} registered with the mediator`,
      async () => [...(await deployment.pushDevices(redis))].find(([, d]) => d.token === token)?.[0],
      30_000,
      100,
    );
  }

  async function sendWhileOffline(wallet: CredoWallet, walletKey: string, connectionId: string, prefix: string) {
    await wallet.goOffline();
    const contents = [0, 1, 2].map((i) => `${prefix}-${i}`);
    for (const content of contents) await bobAdmin.sendMessage(connectionId, content);
    await waitFor(
      "3 messages in the wallet's mailbox",
      async () => (await deployment.mailboxDepth(redis, walletKey)) === 3,
      30_000,
      100,
    );
    return contents;
  }

  it("FCM: one v1 request naming the token for 3 messages, with a token from the JWT grant; the app then gets all 3", async () => {
    const { wallet, connectionId } = await connectedWallet("credo-push-fcm");
    await wallet.setPushDevice("fcm", "fcm-credo-token-1", "android");
    const walletKey = await deviceRegistered("fcm-credo-token-1");

    const contents = await sendWhileOffline(wallet, walletKey, connectionId, "fcm-offline");
    await waitFor("the FCM request", () => fcm.sentTo("fcm-credo-token-1").length > 0, 30_000, 100);
    await holdStill(SETTLE_MS, "a second notification for the same window would arrive by now");
    const sent = fcm.sentTo("fcm-credo-token-1");
    expect(sent).toHaveLength(1);
    expect(fcm.refusals).toEqual([]);
    expect(sent[0]?.message).toMatchObject({
      token: "fcm-credo-token-1",
      notification: { title: "New message", body: "You have a new message." },
      data: { type: "didcomm-message-waiting" },
    });
    expect(JSON.stringify(sent[0]?.message)).not.toContain("fcm-offline");

    await wallet.goOnline();
    await wallet.waitForContents(contents, 60_000);
  });

  it("APNs: one HTTP/2 request with a verified provider token and apns-topic/push-type/priority; the app then gets all 3", async () => {
    const { wallet, connectionId } = await connectedWallet("credo-push-apns");
    await wallet.setPushDevice("apns", "a0b1c2d3e4f5");
    const walletKey = await deviceRegistered("a0b1c2d3e4f5");

    const contents = await sendWhileOffline(wallet, walletKey, connectionId, "apns-offline");
    await waitFor("the APNs request", () => apns.sentTo("a0b1c2d3e4f5").length > 0, 30_000, 100);
    await holdStill(SETTLE_MS, "a second notification for the same window would arrive by now");
    const sent = apns.sentTo("a0b1c2d3e4f5");
    expect(sent).toHaveLength(1);
    expect(apns.refusals).toEqual([]);
    expect(sent[0]?.headers).toMatchObject({
      "apns-topic": apns.key.topic,
      "apns-push-type": "alert",
      "apns-priority": "10",
    });

    await wallet.goOnline();
    await wallet.waitForContents(contents, 60_000);
  });

  it("sends nothing while the wallet is connected, nor after it cleared its token", async () => {
    const { wallet, connectionId } = await connectedWallet("credo-push-quiet");
    await wallet.setPushDevice("fcm", "fcm-credo-quiet");
    const walletKey = await deviceRegistered("fcm-credo-quiet");
    const online = ["quiet-online-0", "quiet-online-1"];
    for (const content of online) await bobAdmin.sendMessage(connectionId, content);
    await wallet.waitForContents(online, 30_000);

    await wallet.setPushDevice("fcm", null);
    await waitFor("the device removed", async () => !(await deployment.pushDevices(redis)).has(walletKey), 30_000, 100);
    await wallet.goOffline();
    await bobAdmin.sendMessage(connectionId, "quiet-offline-0");
    await waitFor(
      "the message in the mailbox",
      async () => (await deployment.mailboxDepth(redis, walletKey)) === 1,
      30_000,
      100,
    );
    await holdStill(SETTLE_MS, "a notification would arrive by now");
    expect(fcm.sentTo("fcm-credo-quiet")).toEqual([]);
    await wallet.goOnline();
    await wallet.waitForContents(["quiet-offline-0"], 60_000);
  });

  it("push service down: retried, then a dead letter with the reason; the messages stay in the mailbox", async () => {
    const { wallet, connectionId } = await connectedWallet("credo-push-down");
    fcm.answer = (token) => (token === "fcm-credo-down" ? 503 : 200);
    await wallet.setPushDevice("fcm", "fcm-credo-down");
    const walletKey = await deviceRegistered("fcm-credo-down");
    const contents = await sendWhileOffline(wallet, walletKey, connectionId, "down-offline");
    const letter = await waitFor(
      "the notification's dead letter",
      async () => {
        const all = await readOutboundDeadLetters(redis, deployment.keyspace);
        return all.find(
          (l) =>
            l.letter.original.case === "outboundJob" && l.letter.original.value.recipientKey === `push:${walletKey}`,
        )?.letter;
      },
      30_000,
      200,
    );
    expect(letter.attempts).toBe(3);
    expect(letter.detail).toBe("HTTP 503");
    expect(await deployment.mailboxDepth(redis, walletKey)).toBe(3);
    fcm.answer = () => 200;
    await wallet.goOnline();
    await wallet.waitForContents(contents, 60_000);
  });

  it("webhook: a deliverer with only a push webhook posts one notification with the connection and token", async () => {
    await deployment.replaceDeliverer(["--push-webhook-url", `${webhook.url}/push`, ...RETRY_FLAGS]);
    const { wallet, connectionId } = await connectedWallet("credo-push-webhook");
    await wallet.setPushDevice("apns", "feed0123");
    const walletKey = await deviceRegistered("feed0123");
    const contents = await sendWhileOffline(wallet, walletKey, connectionId, "hook-offline");
    await webhook.waitFor("the push webhook", (w) => w.body.device_token === "feed0123");
    await holdStill(SETTLE_MS, "a second notification for the same window would arrive by now");
    const posts = webhook.received.filter((w) => w.body.device_token === "feed0123");
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body).toMatchObject({
      wallet_key: walletKey,
      platform: "apns",
      data: { type: "didcomm-message-waiting" },
    });
    expect(typeof posts[0]?.body.connection_id).toBe("string");
    await wallet.goOnline();
    await wallet.waitForContents(contents, 60_000);
  });
});
