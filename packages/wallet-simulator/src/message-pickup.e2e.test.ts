// Message Pickup 2.0 end to end: real ACA-Py mediators (--open-mediation, the shim) behind two
// relays, one PostgreSQL wallet, real Redis, a simulated mobile wallet that speaks Pickup 2.0
// itself, and a plain ACA-Py correspondent. The Credo-ts interop proof is separate (wt/credo).
import { randomUUID } from "node:crypto";
import { decodeEnvelope, WalletMessageSchema } from "@acapy-bridge/protocol";
import {
  AcaPyAdmin,
  type AcaPyProcess,
  acapyBinary,
  PostgresServer,
  postgresBinDir,
  TcpLoadBalancer,
  uniquePrefix,
  waitFor,
} from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  keyspaceOf,
  mediator,
  plainAgent,
  startTestRelay,
  type TestRelay,
} from "../test-fixtures/mediator-deployment.js";
import { MobileWallet, type OobInvitation } from "./index.js";

const PICKUP = "https://didcomm.org/messagepickup/2.0";
const BASIC = "https://didcomm.org/basicmessage/1.0/message";

type Attachment = { "@id": string; data: { base64: string } };

describe.skipIf(!acapyBinary() || !postgresBinDir())("Message Pickup 2.0 on the scalable mediator", () => {
  const prefix = uniquePrefix("e2e-pickup");
  const keyspace = keyspaceOf(inject("redisUrl"), prefix);
  const mailboxKey = () => keyspace.key("walletMailbox", { recipient: wallet.verkey });
  let redis: Redis;
  let postgres: PostgresServer;
  let relays: TestRelay[];
  let balancer: TcpLoadBalancer;
  const mediators: AcaPyProcess[] = [];
  let bob: AcaPyProcess;
  let bobAdmin: AcaPyAdmin;
  let wallet: MobileWallet;
  let bobConnection: string;

  const request = (name: string, body: Record<string, unknown> = {}, replyType?: string) =>
    wallet.requestMediator({ "@type": `${PICKUP}/${name}`, "@id": randomUUID(), ...body }, 30_000, replyType);
  const contentOf = (attachment: Attachment) =>
    String(wallet.agent.unpack<{ content?: string }>(Buffer.from(attachment.data.base64, "base64")).message.content);
  const mailboxMids = async () =>
    (await redis.lrangeBuffer(mailboxKey(), 0, -1)).map((raw) => decodeEnvelope(WalletMessageSchema, raw).mid);

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
    for (const label of ["mediator-a", "mediator-b"]) {
      mediators.push(
        await mediator({
          label,
          redisUrl,
          prefix,
          endpoint: balancer.url,
          walletArgs: postgres.walletArgs("mediator"),
        }),
      );
    }
    wallet = await MobileWallet.create("pickup-wallet");
    const invitation = (await new AcaPyAdmin(mediators[0]?.adminUrl as string).createInvitation(
      "mediator",
    )) as OobInvitation;
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
    await Promise.all([...mediators.map((m) => m.stop()), bob?.stop()]);
    await balancer?.close();
    await Promise.all((relays ?? []).map((r) => r.relay.stop()));
    await postgres?.stop();
    redis?.disconnect();
  });

  it("discloses messagepickup 2.0 and 1.0 in discover-features", async () => {
    const disclose = await wallet.requestMediator({
      "@type": "https://didcomm.org/discover-features/1.0/query",
      "@id": randomUUID(),
      query: "https://didcomm.org/messagepickup/*",
    });
    const pids = (disclose.protocols as { pid: string }[]).map((p) => p.pid);
    expect(pids).toEqual(expect.arrayContaining([PICKUP, "https://didcomm.org/messagepickup/1.0"]));
  });

  it("keeps messages until messages-received names them: status, delivery (nothing removed), acknowledgement", async () => {
    const first = await request("status-request");
    expect(first["@type"]).toBe(`${PICKUP}/status`);
    expect(await redis.exists(keyspace.key("walletPickup", { recipient: wallet.verkey }))).toBe(1);
    for (let i = 0; i < 3; i++) await bobAdmin.sendMessage(bobConnection, `waiting-${i}`);
    await waitFor("3 messages in the mailbox", async () => (await redis.llen(mailboxKey())) === 3, 30_000, 100);
    // A Pickup 2.0 wallet's socket gets nothing implicitly, although it has a session.
    expect(wallet.inbox.filter((r) => r.message["@type"] === BASIC)).toEqual([]);

    const status = await request("status-request");
    expect(status.message_count).toBe(3);
    const delivery = await request("delivery-request", { limit: 2 });
    expect(delivery["@type"]).toBe(`${PICKUP}/delivery`);
    const attachments = delivery["~attach"] as Attachment[];
    expect(attachments.map((a) => a["@id"])).toEqual((await mailboxMids()).slice(0, 2));
    expect(await redis.llen(mailboxKey())).toBe(3); // delivering removed nothing

    const afterAck = await request("messages-received", { message_id_list: [attachments[0]?.["@id"]] });
    expect(afterAck.message_count).toBe(2);
    expect(await mailboxMids()).not.toContain(attachments[0]?.["@id"]);
    const rest = (await request("delivery-request", { limit: 10 }))["~attach"] as Attachment[];
    expect([...attachments.slice(0, 1), ...rest].map(contentOf).sort()).toEqual([
      "waiting-0",
      "waiting-1",
      "waiting-2",
    ]);
    const done = await request("messages-received", { message_id_list: rest.map((a) => a["@id"]) });
    expect(done.message_count).toBe(0);
    expect(await redis.llen(mailboxKey())).toBe(0);
    const none = await request("delivery-request", { limit: 10 });
    expect([none["@type"], none.message_count]).toEqual([`${PICKUP}/status`, 0]);
  });

  it("with live delivery on, pushes each new message at once as a delivery it keeps until acknowledged", async () => {
    const on = await request("live-delivery-change", { live_delivery: true });
    expect(on.live_delivery).toBe(true);
    await bobAdmin.sendMessage(bobConnection, "live-1");
    const [pushed] = await wallet.waitForInbox((r) => r.message["@type"] === `${PICKUP}/delivery`, 1, 30_000);
    const [attachment] = (pushed?.message["~attach"] ?? []) as Attachment[];
    expect(contentOf(attachment as Attachment)).toBe("live-1");
    expect(await mailboxMids()).toEqual([attachment?.["@id"]]); // recoverable until acknowledged
    const status = await request("messages-received", { message_id_list: [attachment?.["@id"]] });
    expect(status.message_count).toBe(0);
    expect(await redis.llen(mailboxKey())).toBe(0);
  });
});
