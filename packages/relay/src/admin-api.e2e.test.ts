// ACA-Py's admin API through the relays' admin port: real ACA-Py (two instances on one PostgreSQL
// wallet, and a multitenant one), real Redis, real PostgreSQL.
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AcaPyAdmin,
  type AcaPyProcess,
  holdStill,
  PostgresServer,
  uniquePrefix,
  WebhookSink,
  waitFor,
} from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type AdminHttpAnswer, adminCall, withoutIdsAndTimes } from "../test-fixtures/admin-calls.js";
import { bridgedAgent, plainAgent } from "../test-fixtures/agents.js";
import { startTestRelay, type TestRelay } from "../test-fixtures/relay-harness.js";

const TEST_PLUGINS = resolve(dirname(fileURLToPath(import.meta.url)), "../../../plugin-py-shim/tests/acapy_plugins");
const DIDEXCHANGE = { handshake_protocols: ["https://didcomm.org/didexchange/1.1"], use_public_did: false };
// Long enough for a cheap call on a loaded CI machine, short enough for the kill -9 test to wait out.
const ADMIN_TIMEOUT_MS = 15_000;
const ADMIN_LISTENER = { adminPort: 0, adminTimeoutMs: ADMIN_TIMEOUT_MS };

function adminUrl(relay: TestRelay): string {
  return `http://127.0.0.1:${relay.relay.adminAddress?.port}`;
}

/** Answers by the instance that ran them, over the relays' metrics. */
async function executedByInstance(relays: TestRelay[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const relay of relays) {
    const metric = (await relay.metrics.getMetricsAsJSON()).find((m) => m.name === "acapy_bridge_admin_executed_total");
    for (const v of (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[]) {
      const instance = String(v.labels.instance);
      counts.set(instance, (counts.get(instance) ?? 0) + v.value);
    }
  }
  return counts;
}

function expectSameAnswer(viaRelay: AdminHttpAnswer, direct: AdminHttpAnswer, what: string): void {
  expect(viaRelay.status, what).toBe(direct.status);
  expect(viaRelay.contentType, what).toBe(direct.contentType);
  if (direct.json === undefined) expect(viaRelay.text, what).toBe(direct.text);
  else expect(withoutIdsAndTimes(viaRelay.json), what).toEqual(withoutIdsAndTimes(direct.json));
}

describe("admin API through two relays, two ACA-Py instances on one PostgreSQL wallet", () => {
  const prefix = uniquePrefix("e2e-admin");
  let postgres: PostgresServer;
  let relays: TestRelay[];
  let alices: AcaPyProcess[];
  let bob: AcaPyProcess;
  let aliceHooks: WebhookSink;
  let bobHooks: WebhookSink;
  let next = 0;
  /** The relays' admin ports in turn: the controller spreads its calls over both relays. */
  const viaRelay = (method: string, path: string, options?: Parameters<typeof adminCall>[3]) =>
    adminCall(adminUrl(relays[next++ % relays.length] as TestRelay), method, path, options);
  const direct = (method: string, path: string, options?: Parameters<typeof adminCall>[3]) =>
    adminCall((alices[0] as AcaPyProcess).adminUrl, method, path, options);

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    [postgres, relays, aliceHooks, bobHooks] = await Promise.all([
      PostgresServer.start(),
      Promise.all(
        [0, 1].map(() =>
          startTestRelay({ redisUrl, prefix, partitions: { inboundPartitions: 16 }, config: ADMIN_LISTENER }),
        ),
      ),
      WebhookSink.start(),
      WebhookSink.start(),
    ]);
    const alice = () =>
      bridgedAgent({
        label: "alice",
        redisUrl,
        prefix,
        relayUrl: (relays[0] as TestRelay).url,
        webhookUrl: aliceHooks.url,
        walletArgs: postgres.walletArgs("alice"),
        extraArgs: ["--plugin", "slow_admin_route"],
        env: { PYTHONPATH: TEST_PLUGINS },
      });
    // The first provisions the shared wallet; the second opens it.
    alices = [await alice()];
    [bob] = await Promise.all([plainAgent("bob", bobHooks.url), alice().then((a) => alices.push(a))]);
  });
  afterAll(async () => {
    await Promise.all([...(alices ?? []).map((a) => a.stop()), bob?.stop()]);
    await Promise.all((relays ?? []).map((r) => r.relay.stop()));
    await Promise.all([aliceHooks?.close(), bobHooks?.close(), postgres?.stop()]);
  });

  it("drives a whole flow through the relays' admin port, answered as ACA-Py's own admin API answers, by both instances", async () => {
    const bobAdmin = new AcaPyAdmin(bob.adminUrl);
    // Create an invitation; the same call to ACA-Py's own admin API gives the same answer but for ids.
    const create = { ...DIDEXCHANGE, my_label: "alice" };
    const invited = await viaRelay("POST", "/out-of-band/create-invitation?auto_accept=true", { body: create });
    expect(invited.status, invited.text).toBe(200);
    expectSameAnswer(
      invited,
      await direct("POST", "/out-of-band/create-invitation?auto_accept=true", { body: create }),
      "create-invitation",
    );
    const invitation = (invited.json as { invitation: Record<string, unknown> }).invitation;

    // A plain ACA-Py agent receives it; the connection completes.
    const bobConnection = await bobAdmin.receiveInvitation(invitation);
    await bobAdmin.waitForActive(bobConnection);
    const aliceConnection = await waitFor(
      "alice's connection active, seen through the relays",
      async () => {
        const listed = await viaRelay("GET", `/connections?invitation_msg_id=${invitation["@id"]}`);
        const results = (listed.json as { results: { connection_id: string; state: string }[] }).results;
        return results.find((c) => c.state === "active")?.connection_id;
      },
      60_000,
      250,
    );

    // Basic messages both ways: Alice's through the relays' admin port.
    await bobAdmin.sendMessage(bobConnection, "hello alice");
    await aliceHooks.waitFor("bob's message", (w) => w.topic === "basicmessages" && w.body.content === "hello alice");
    const sent = await viaRelay("POST", `/connections/${aliceConnection}/send-message`, {
      body: { content: "hi bob" },
    });
    expectSameAnswer(
      sent,
      await direct("POST", `/connections/${aliceConnection}/send-message`, { body: { content: "hi again" } }),
      "send-message",
    );
    await bobHooks.waitFor("alice's message", (w) => w.topic === "basicmessages" && w.body.content === "hi bob");
    await bobHooks.waitFor("alice's 2nd message", (w) => w.topic === "basicmessages" && w.body.content === "hi again");

    // Records, errors, the OpenAPI document: byte for byte where nothing varies.
    for (const path of [`/connections/${aliceConnection}`, "/connections?state=active", "/status/ready"]) {
      const [a, b] = [await viaRelay("GET", path), await direct("GET", path)];
      expect(a.status, path).toBe(200);
      expect(a.text, path).toBe(b.text);
    }
    const [swaggerViaRelay, swaggerDirect] = [
      await viaRelay("GET", "/api/docs/swagger.json"),
      await direct("GET", "/api/docs/swagger.json"),
    ];
    expect(swaggerViaRelay.status).toBe(200);
    expect(swaggerViaRelay.json).toEqual(swaggerDirect.json);
    for (const [method, path, body] of [
      ["GET", "/connections/no-such-connection", undefined],
      ["POST", "/out-of-band/create-invitation", { handshake_protocols: 5 }],
      ["GET", "/no/such/route", undefined],
      ["DELETE", "/status", undefined],
    ] as const) {
      const what = `${method} ${path}`;
      const [a, b] = [await viaRelay(method, path, { body }), await direct(method, path, { body })];
      expect(a.status, what).toBeGreaterThanOrEqual(400);
      expectSameAnswer(a, b, what);
    }
    // /status: the same but for each process's own counters.
    const [statusViaRelay, statusDirect] = [await viaRelay("GET", "/status"), await direct("GET", "/status")];
    const withoutCounters = (answer: AdminHttpAnswer) => {
      const { conductor, ...rest } = answer.json as { conductor: Record<string, number> };
      return { ...answer, json: { ...rest, conductor: Object.keys(conductor).sort() } };
    };
    expectSameAnswer(withoutCounters(statusViaRelay), withoutCounters(statusDirect), "status");

    // Both ACA-Py instances ran calls.
    const byInstance = await executedByInstance(relays);
    expect([...byInstance.keys()].length, JSON.stringify([...byInstance])).toBe(2);
  });

  it("kill -9 of the instance running a slow call: 504 outcome unknown within the timeout, never run again", async () => {
    const marker = `slow-${Date.now()}`;
    const started = Date.now();
    const call = viaRelay("POST", `/acapy-bridge-test/slow-call?marker=${marker}&delay_s=120`);
    const records = async () =>
      (
        (await direct("GET", `/acapy-bridge-test/slow-call-records?marker=${marker}`)).json as {
          results: { pid: number }[];
        }
      ).results;
    const [running] = await waitFor("the slow call started (its record is written)", async () => {
      const found = await records();
      return found.length > 0 ? found : undefined;
    });
    const executor = alices.find((a) => a.pid === running?.pid);
    expect(executor, `pid ${running?.pid} among ${alices.map((a) => a.pid)}`).toBeDefined();
    await executor?.kill();
    const survivor = alices.find((a) => a !== executor) as AcaPyProcess;
    alices = [survivor];

    const answer = await call;
    expect(answer.status).toBe(504);
    expect(answer.json).toMatchObject({ executed: "unknown", reason: "outcome-unknown" });
    expect((answer.json as { error: string }).error).toContain("outcome is unknown");
    expect(Date.now() - started).toBeLessThan(ADMIN_TIMEOUT_MS + 5_000);
    // The surviving instance never ran it: still exactly one execution in the shared wallet.
    await holdStill(3_000, "a second execution, if any, would write its record within this");
    expect(await records()).toEqual([{ pid: running?.pid }]);
  });
});

describe("admin API through the relay with multitenancy (sub-wallet tokens, an admin API key)", () => {
  const prefix = uniquePrefix("e2e-admin-mt");
  const apiKey = "admin-key-for-tests";
  let relay: TestRelay;
  let agent: AcaPyProcess;
  let hooks: WebhookSink;
  const viaRelay = (method: string, path: string, options?: Parameters<typeof adminCall>[3]) =>
    adminCall(adminUrl(relay), method, path, options);
  const direct = (method: string, path: string, options?: Parameters<typeof adminCall>[3]) =>
    adminCall(agent.adminUrl, method, path, options);

  beforeAll(async () => {
    const redisUrl = inject("redisUrl");
    [relay, hooks] = await Promise.all([
      startTestRelay({ redisUrl, prefix, partitions: { inboundPartitions: 16 }, config: ADMIN_LISTENER }),
      WebhookSink.start(),
    ]);
    agent = await bridgedAgent({
      label: "tenants",
      redisUrl,
      prefix,
      relayUrl: relay.url,
      webhookUrl: hooks.url,
      adminApiKey: apiKey,
      extraArgs: ["--multitenant", "--multitenant-admin", "--jwt-secret", "jwt-secret-for-tests"],
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await relay?.relay.stop();
    await hooks?.close();
  });

  it("a sub-wallet's bearer token works through the relay exactly as against ACA-Py; wrong keys and tokens get ACA-Py's own 401", async () => {
    const key = { "x-api-key": apiKey };
    const wallet = (name: string) => ({
      body: { wallet_name: name, wallet_key: `${name}-key`, label: name },
      headers: key,
    });
    const [name, otherName] = [`sub-a-${Date.now()}`, `sub-b-${Date.now()}`];
    const created = await viaRelay("POST", "/multitenancy/wallet", wallet(name));
    expect(created.status, created.text).toBe(200);
    const createdDirect = await direct("POST", "/multitenancy/wallet", wallet(otherName));
    expectSameAnswer(
      created,
      { ...createdDirect, json: JSON.parse(createdDirect.text.replaceAll(otherName, name)) },
      "create a sub-wallet",
    );
    const token = (created.json as { token: string }).token;
    const bearer = { Authorization: `Bearer ${token}` };

    // The sub-wallet creates an invitation through the relay: its record is in the sub-wallet only.
    const invited = await viaRelay("POST", "/out-of-band/create-invitation", {
      body: { ...DIDEXCHANGE, my_label: "tenant" },
      headers: { ...bearer, ...key },
    });
    expect(invited.status, invited.text).toBe(200);
    const oobId = (invited.json as { oob_id: string }).oob_id;
    const subRecords = await direct("GET", "/out-of-band/records", { headers: { ...bearer, ...key } });
    const baseRecords = await direct("GET", "/out-of-band/records", { headers: key });
    expect(subRecords.status).toBe(200);
    expect(subRecords.text).toContain(oobId);
    expect(baseRecords.text).not.toContain(oobId);

    const cases: [string, Record<string, string>][] = [
      ["token and key", { ...bearer, ...key }],
      ["token only", bearer],
      ["key only (base wallet)", key],
      ["wrong key", { "x-api-key": "wrong" }],
      ["wrong token", { Authorization: "Bearer not.a.token", ...key }],
      ["token with a wrong key", { ...bearer, "x-api-key": "wrong" }],
      ["nothing", {}],
    ];
    for (const [what, headers] of cases) {
      const [a, b] = [
        await viaRelay("GET", "/connections", { headers }),
        await direct("GET", "/connections", { headers }),
      ];
      expect(a.status, what).toBe(b.status);
      expect(a.text, what).toBe(b.text);
    }
    expect((await viaRelay("GET", "/connections", { headers: { "x-api-key": "wrong" } })).status).toBe(401);
    expect(
      (await viaRelay("GET", "/connections", { headers: { Authorization: "Bearer not.a.token", ...key } })).status,
    ).toBe(401);
  });
});
