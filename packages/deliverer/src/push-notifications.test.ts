import { DeadLetterReason, type Keyspace, type RedisClient } from "@acapy-bridge/protocol";
import {
  ApnsTestServer,
  FcmTestServer,
  freePort,
  uniquePrefix,
  WebhookSink,
  waitFor,
} from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  enqueueJob,
  openRedis,
  outboundResidue,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { type Platform, pushConfigFor, pushJob, registerDevice } from "../test-fixtures/push-jobs.js";
import { readOutboundDeadLetters } from "./dead-letters.js";
import type { PushConfig } from "./push-options.js";

/**
 * The deliverer's push notifications against local stand-ins that check what Google and Apple
 * check (FcmTestServer: OAuth2 JWT grant + FCM v1; ApnsTestServer: HTTP/2 TLS with an ES256
 * provider token) and a webhook sink, with real Redis: the jobs are the ones the shim writes.
 */
describe("push notifications from the deliverer", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let fcm: FcmTestServer;
  let apns: ApnsTestServer;
  let webhook: WebhookSink;
  let webhookStatus: (path: string) => number = () => 200;
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });
  beforeAll(async () => {
    fcm = await FcmTestServer.start();
    apns = await ApnsTestServer.start();
    webhook = await WebhookSink.start((path) => webhookStatus(path));
    cleanup.push(
      () => fcm.close(),
      () => apns.close(),
      () => webhook.close(),
    );
  });

  async function bed(name: string, push: PushConfig, maxAttempts = 5) {
    const connection = connectionFor(inject("redisUrl"), uniquePrefix(name));
    const { client, keyspace } = await openRedis(connection);
    const { deliverer } = await startTestDeliverer(connection, `d-${name}`, { push, maxAttempts });
    cleanup.push(() => closeRedisClient(client));
    cleanup.push(() => deliverer.stop());
    const notify = async (wallet: string, platform: Platform, token: string) => {
      const device = await registerDevice(client, keyspace, wallet, platform, token);
      await enqueueJob(client, keyspace, pushJob(wallet, device, platform));
      return device;
    };
    return { client, keyspace, deliverer, notify };
  }

  async function settled(client: RedisClient, keyspace: Keyspace) {
    await waitFor("the push jobs settled", async () => {
      const r = await outboundResidue(client, keyspace);
      return r.backlog === 0 && r.pending === 0 && r.parked === 0;
    });
  }

  const deviceOf = (client: RedisClient, keyspace: Keyspace, wallet: string) =>
    client.getBuffer(keyspace.key("walletPushDevice", { recipient: wallet }));

  it("sends an FCM v1 message with an OAuth2 token from the service account's JWT grant, naming the device", async () => {
    const { client, keyspace, notify } = await bed("push-fcm", pushConfigFor({ fcm }));
    await notify("wallet-fcm-1", "fcm", "fcm-token-1");
    const [sent] = await waitFor("the FCM send", () =>
      fcm.sentTo("fcm-token-1").length ? fcm.sentTo("fcm-token-1") : undefined,
    );
    expect(fcm.refusals).toEqual([]);
    expect(fcm.issued.size).toBeGreaterThanOrEqual(1);
    expect(sent?.message).toMatchObject({
      token: "fcm-token-1",
      notification: { title: "New message", body: "You have a new message." },
      data: { type: "didcomm-message-waiting", connection_id: "conn-wallet-fcm-1" },
    });
    await settled(client, keyspace);
    expect(fcm.sentTo("fcm-token-1")).toHaveLength(1);
  });

  it("makes a new OAuth2 grant when FCM refuses the access token (401), and sends", async () => {
    const { client, keyspace, notify } = await bed("push-fcm-401", pushConfigFor({ fcm }));
    await notify("wallet-401-a", "fcm", "fcm-401-a");
    await waitFor("the first send", () => fcm.sentTo("fcm-401-a").length === 1);
    const grants = fcm.issued.size;
    fcm.issued.clear(); // every token issued so far is revoked
    await notify("wallet-401-b", "fcm", "fcm-401-b");
    await waitFor("the send after a new grant", () => fcm.sentTo("fcm-401-b").length === 1);
    expect(fcm.issued.size).toBe(1);
    expect(grants).toBeGreaterThanOrEqual(1);
    await settled(client, keyspace);
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
  });

  it("sends APNs over HTTP/2 with an ES256 provider token and the apns-topic, push type and priority headers", async () => {
    const { client, keyspace, notify } = await bed("push-apns", pushConfigFor({ apns }));
    await notify("wallet-apns-1", "apns", "a1b2c3");
    const [sent] = await waitFor("the APNs send", () =>
      apns.sentTo("a1b2c3").length ? apns.sentTo("a1b2c3") : undefined,
    );
    expect(apns.refusals).toEqual([]);
    expect(sent?.headers).toMatchObject({
      "apns-topic": "org.example.wallet",
      "apns-push-type": "alert",
      "apns-priority": "10",
    });
    expect(sent?.payload).toMatchObject({
      aps: { alert: { title: "New message", body: "You have a new message." } },
      type: "didcomm-message-waiting",
    });
    await settled(client, keyspace);
  });

  it("posts a platform without direct credentials to the operator's push webhook", async () => {
    const { client, keyspace, notify } = await bed(
      "push-webhook",
      pushConfigFor({ webhookUrl: `${webhook.url}/push` }),
    );
    await notify("wallet-hook-1", "apns", "feedbeef");
    const got = await webhook.waitFor("the push webhook", (w) => w.body.device_token === "feedbeef");
    expect(got.path).toBe("/push");
    expect(got.body).toMatchObject({
      wallet_key: "wallet-hook-1",
      connection_id: "conn-wallet-hook-1",
      platform: "apns",
      device_token: "feedbeef",
      data: { type: "didcomm-message-waiting" },
    });
    await settled(client, keyspace);
  });

  it("acknowledges a notification for a platform that is off or has nowhere to go, sending nothing", async () => {
    const { client, keyspace, notify } = await bed("push-none", pushConfigFor({ fcm }, { platforms: ["apns"] }));
    await notify("wallet-off-1", "fcm", "fcm-off");
    await notify("wallet-off-2", "apns", "0ff0ff");
    await settled(client, keyspace);
    expect(fcm.sentTo("fcm-off")).toEqual([]);
    expect(await readOutboundDeadLetters(client, keyspace)).toEqual([]);
  });

  it("retries a push service answering 5xx with backoff, then dead-letters with the reason; a refused connection too", async () => {
    fcm.answer = (token) => (token === "fcm-503" ? 503 : 200);
    const closedPort = await freePort();
    const { client, keyspace, notify } = await bed(
      "push-down",
      pushConfigFor({ fcm, webhookUrl: `http://127.0.0.1:${closedPort}/push` }),
      3,
    );
    await notify("wallet-down-1", "fcm", "fcm-503");
    await notify("wallet-down-2", "apns", "dead00");
    const letters = await waitFor("two dead letters", async () => {
      const all = await readOutboundDeadLetters(client, keyspace);
      return all.length >= 2 ? all : undefined;
    });
    const byMid = (endpoint: string) =>
      letters.find((l) => l.letter.original.case === "outboundJob" && l.letter.original.value.endpoint === endpoint)
        ?.letter;
    expect(byMid("push:fcm")).toMatchObject({
      reason: DeadLetterReason.ATTEMPTS_EXHAUSTED,
      attempts: 3,
      detail: "HTTP 503",
    });
    expect(byMid("push:apns")).toMatchObject({ reason: DeadLetterReason.ATTEMPTS_EXHAUSTED, attempts: 3 });
    expect(byMid("push:apns")?.detail).toMatch(/ECONNREFUSED/);
    expect(await deviceOf(client, keyspace, "wallet-down-1")).not.toBeNull();
    fcm.answer = () => 200;
  });

  it("removes a token FCM (404), APNs (410) or the webhook (410) reports unregistered, and dead-letters the job REJECTED", async () => {
    fcm.answer = (token) => (token === "fcm-gone" ? 404 : 200);
    apns.answer = (token) => (token === "a90e" ? 410 : 200);
    webhookStatus = (path) => (path === "/gone" ? 410 : 200);
    const direct = await bed("push-gone", pushConfigFor({ fcm, apns }));
    await direct.notify("wallet-gone-fcm", "fcm", "fcm-gone");
    await direct.notify("wallet-gone-apns", "apns", "a90e");
    const viaHook = await bed("push-gone-hook", pushConfigFor({ webhookUrl: `${webhook.url}/gone` }));
    await viaHook.notify("wallet-gone-hook", "fcm", "hook-gone");
    for (const [b, wallet] of [
      [direct, "wallet-gone-fcm"],
      [direct, "wallet-gone-apns"],
      [viaHook, "wallet-gone-hook"],
    ] as const) {
      await waitFor(
        `the token of ${wallet} removed`,
        async () => (await deviceOf(b.client, b.keyspace, wallet)) === null,
      );
    }
    const letters = [
      ...(await readOutboundDeadLetters(direct.client, direct.keyspace)),
      ...(await readOutboundDeadLetters(viaHook.client, viaHook.keyspace)),
    ].map((l) => l.letter);
    expect(letters).toHaveLength(3);
    for (const letter of letters) {
      expect(letter.reason).toBe(DeadLetterReason.REJECTED);
      expect(letter.detail).toMatch(/unregistered/);
      expect(letter.attempts).toBe(1);
    }
    fcm.answer = () => 200;
    apns.answer = () => 200;
  });

  it("keeps a device the wallet registered again after the notification was decided", async () => {
    fcm.answer = (token) => (token === "fcm-old" ? 404 : 200);
    const { client, keyspace } = await bed("push-renewed", pushConfigFor({ fcm }));
    const oldDevice = await registerDevice(client, keyspace, "wallet-renewed", "fcm", "fcm-old");
    await registerDevice(client, keyspace, "wallet-renewed", "fcm", "fcm-new");
    await enqueueJob(client, keyspace, pushJob("wallet-renewed", oldDevice, "fcm"));
    // The dead letter is written after the removal was tried: once it is there, the device stays.
    await waitFor("the dead letter", async () => (await readOutboundDeadLetters(client, keyspace)).length === 1);
    expect(await deviceOf(client, keyspace, "wallet-renewed")).not.toBeNull();
    fcm.answer = () => 200;
  });
});
