// Mediation decided inside the mediator, no controller: three Design 1 instances (own transports,
// shim) without --open-mediation, with the shim's mediation policy (a label allow list and a key
// limit). On every instance a wallet outside the policy is denied with a problem report, and an
// allowed wallet is granted and gets its messages.
import { randomUUID } from "node:crypto";
import { postEnvelope, TestAgent, verkeyToDidKey } from "@acapy-bridge/didcomm-test-agent";
import { type AcaPyAdmin, Design1Deployment, PostgresServer, uniquePrefix } from "@acapy-bridge/test-harness";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { MobileWallet, type OobInvitation } from "./index.js";

const BASIC = "https://didcomm.org/basicmessage/1.0/message";
const MEDIATION = "https://didcomm.org/coordinate-mediation/1.0";
const INSTANCES = 3;
const MAX_KEYS = 2;

interface Report {
  "@type": string;
  description?: { code?: string; en?: string };
}

describe("mediation policy without a controller (Design 1, three instances)", () => {
  const redisUrl = inject("redisUrl");
  let redis: Redis;
  let postgres: PostgresServer;
  let deployment: Design1Deployment;
  let correspondent: TestAgent;
  const wallets: MobileWallet[] = [];

  beforeAll(async () => {
    redis = new Redis(redisUrl);
    [postgres, correspondent] = await Promise.all([PostgresServer.start(), TestAgent.create("correspondent")]);
    deployment = await Design1Deployment.start(
      {
        shim: true,
        redisUrl,
        prefix: uniquePrefix("e2e-design1-policy"),
        postgres,
        walletName: "design1-policy",
        openMediation: false,
        shimSettings: [
          "acapy_bridge_shim.mailbox.enabled=true",
          "acapy_bridge_shim.mediation_policy.enabled=true",
          `acapy_bridge_shim.mediation_policy.labels=${Array.from({ length: INSTANCES }, (_, i) => `trusted-${i}`).join(",")}`,
          `acapy_bridge_shim.mediation_policy.max_keys_per_wallet=${MAX_KEYS}`,
        ],
      },
      INSTANCES,
    );
    await deployment.socketHoldersUp(redis);
  }, 600_000);

  afterAll(async () => {
    await Promise.all(wallets.map((w) => w.closeSocket()));
    await deployment?.stop();
    await postgres?.stop();
    redis?.disconnect();
  });

  /** A wallet connected to instance `index` directly (its WebSocket), not yet mediated. */
  async function connectedWallet(label: string, index: number): Promise<MobileWallet> {
    const instance = deployment.instances[index];
    if (!instance) throw new Error(`no instance ${index}`);
    const wallet = await MobileWallet.create(label);
    wallets.push(wallet);
    const invitation = (await instance.admin.createInvitation("mediator")) as OobInvitation;
    await wallet.connectToMediator(invitation, `ws://${instance.wsAddress}`, 60_000);
    return wallet;
  }

  async function mediationStates(admin: AcaPyAdmin): Promise<Record<string, number>> {
    const { results } = await admin.request<{ results: { state: string }[] }>("GET", "/mediation/requests");
    const states: Record<string, number> = {};
    for (const { state } of results) states[state] = (states[state] ?? 0) + 1;
    return states;
  }

  it("denies a wallet outside the policy with a problem report, on every instance", async () => {
    for (let i = 0; i < INSTANCES; i++) {
      const wallet = await connectedWallet(`stranger-${i}`, i);
      await wallet.sendToMediator({ "@type": `${MEDIATION}/mediate-request`, "@id": randomUUID() });
      const [report] = (
        await wallet.waitForInbox((r) => r.message["@type"] === `${MEDIATION}/problem-report`, 1, 30_000)
      ).map((r) => r.message as unknown as Report);
      expect(report?.description?.code, `instance ${i}`).toBe("mediation_denied_by_policy");
      expect(wallet.inbox.some((r) => r.message["@type"] === `${MEDIATION}/mediate-deny`)).toBe(true);
      expect(wallet.routing).toBeUndefined();
    }
    // The decisions are ACA-Py's mediation records in the shared database: every instance sees them.
    for (const instance of deployment.instances) {
      expect((await mediationStates(instance.admin)).denied).toBe(INSTANCES);
    }
  }, 300_000);

  it("grants a wallet the policy allows, on every instance, and its messages arrive", async () => {
    for (let i = 0; i < INSTANCES; i++) {
      const wallet = await connectedWallet(`trusted-${i}`, i);
      await wallet.requestMediation(30_000);
      const routedKey = wallet.agent.addKey().verkey;
      await wallet.addRoutingKey(routedKey);
      const routing = wallet.routing as NonNullable<typeof wallet.routing>;
      const id = randomUUID();
      const packed = correspondent.pack({ "@type": BASIC, "@id": id, content: `hello trusted-${i}` }, [routedKey], {
        routingKeys: routing.routingKeys,
      });
      // Through the HTTP balancer: the forward lands on any instance.
      expect((await postEnvelope(routing.endpoint, packed, { timeoutMs: 30_000 })).status).toBe(200);
      await wallet.waitForInbox((r) => r.message["@id"] === id, 1, 30_000);
    }
    for (const instance of deployment.instances) {
      expect((await mediationStates(instance.admin)).granted).toBe(INSTANCES);
    }
  }, 300_000);

  it("refuses a keylist update past the keys-per-wallet limit with a problem report", async () => {
    const wallet = wallets.find((w) => w.label === "trusted-0") as MobileWallet;
    // trusted-0 holds one key; one more fits.
    await wallet.addRoutingKey(wallet.agent.addKey().verkey);
    const reply = (await wallet.requestMediator({
      "@type": `${MEDIATION}/keylist-update`,
      "@id": randomUUID(),
      updates: [{ recipient_key: verkeyToDidKey(wallet.agent.addKey().verkey), action: "add" }],
    })) as unknown as Report;
    expect(reply["@type"]).toBe(`${MEDIATION}/problem-report`);
    expect(reply.description?.code).toBe("keylist_limit_exceeded");
  }, 120_000);
});
