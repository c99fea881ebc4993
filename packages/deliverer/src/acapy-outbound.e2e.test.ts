import { DEFAULT_PARTITIONS } from "@acapy-bridge/protocol";
import {
  AcaPyAdmin,
  AcaPyProcess,
  connectAgents,
  freePort,
  holdStill,
  uniquePrefix,
  WebhookSink,
  waitFor,
} from "@acapy-bridge/test-harness";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  closeRedisClient,
  connectionFor,
  openRedis,
  outboundResidue,
  startTestDeliverer,
} from "../test-fixtures/deliverer-harness.js";
import { SwitchableEndpoint } from "../test-fixtures/switchable-endpoint.js";
import type { RunningDeliverer } from "./start-deliverer.js";

const AUTO = ["--auto-accept-invites", "--auto-accept-requests", "--monitor-ping"];

async function deliveredCount(metricsText: string, kind: string): Promise<number> {
  const line = metricsText
    .split("\n")
    .find(
      (l) =>
        l.startsWith("acapy_bridge_deliverer_deliveries_total") &&
        l.includes('outcome="delivered"') &&
        l.includes(`kind="${kind}"`),
    );
  return line ? Number(line.split(" ").pop()) : 0;
}

// Issue 4, "Done when" 1, 2 and 5 with real ACA-Py 1.7.0 agents: Alice sends
// DIDComm through the shim's outbound transport, Redis and the deliverer; Bob
// is a plain ACA-Py behind an endpoint the test can switch off.
describe("ACA-Py -> shim -> Redis -> deliverer -> agents and controllers", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  let alice: AcaPyProcess;
  let bob: AcaPyProcess;
  let aliceAdmin: AcaPyAdmin;
  let bobAdmin: AcaPyAdmin;
  let aliceHooks: WebhookSink;
  let bobHooks: WebhookSink;
  let bobEndpoint: SwitchableEndpoint;
  let deliverer: RunningDeliverer;
  let metrics: () => Promise<string>;
  let aliceConnection: string;
  let bobConnection: string;
  const redisUrl = inject("redisUrl");
  const prefix = uniquePrefix("acapy-out");
  const connection = connectionFor(redisUrl, prefix, false, DEFAULT_PARTITIONS);

  beforeAll(async () => {
    aliceHooks = await WebhookSink.start();
    bobHooks = await WebhookSink.start();
    cleanup.push(
      () => aliceHooks.close(),
      () => bobHooks.close(),
    );
    const started = await startTestDeliverer(connection, "d-acapy", {
      maxAttempts: 100,
      backoffBaseMs: 200,
      backoffCapMs: 2_000,
      totalTimeoutMs: 10_000,
    });
    deliverer = started.deliverer;
    metrics = () => started.services.metrics.metrics();
    cleanup.push(() => deliverer.stop());

    const [alicePort, bobPort, bobProxyPort] = [await freePort(), await freePort(), await freePort()];
    bobEndpoint = new SwitchableEndpoint(bobProxyPort, `http://127.0.0.1:${bobPort}`);
    await bobEndpoint.up();
    cleanup.push(() => bobEndpoint.down());
    [alice, bob] = await Promise.all([
      AcaPyProcess.start({
        label: "alice",
        args: [
          "--plugin",
          "acapy_bridge_shim",
          "-o",
          `acapy_bridge_shim.redis_url=${redisUrl}`,
          `acapy_bridge_shim.prefix=${prefix}`,
          "acapy_bridge_shim.events.webhooks_via_deliverer=true",
          "-ot",
          "acapy_bridge_shim.outbound",
          "-ot",
          "http",
          "-it",
          "http",
          "127.0.0.1",
          String(alicePort),
          "-e",
          `http://127.0.0.1:${alicePort}`,
          "--webhook-url",
          `${aliceHooks.url}#alice-api-key`,
          ...AUTO,
        ],
      }),
      AcaPyProcess.start({
        label: "bob",
        args: [
          "-it",
          "http",
          "127.0.0.1",
          String(bobPort),
          "-ot",
          "http",
          "-e",
          bobEndpoint.url,
          "--webhook-url",
          bobHooks.url,
          ...AUTO,
        ],
      }),
    ]);
    cleanup.push(
      () => alice.stop(),
      () => bob.stop(),
    );
    aliceAdmin = new AcaPyAdmin(alice.adminUrl);
    bobAdmin = new AcaPyAdmin(bob.adminUrl);
    const plugins = await aliceAdmin.request<{ result: string[] }>("GET", "/plugins");
    expect(plugins.result).toContain("acapy_bridge_shim");
    const ids = await connectAgents(aliceAdmin, bobAdmin);
    aliceConnection = ids.inviterConnectionId;
    bobConnection = ids.inviteeConnectionId;
  }, 180_000);

  afterAll(async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  });

  it("completes the connection and delivers Alice's basic messages to Bob through the deliverer", async () => {
    const before = await deliveredCount(await metrics(), "didcomm");
    // Alice's DID Exchange response already went Alice -> shim -> Redis -> deliverer -> Bob.
    expect(before).toBeGreaterThan(0);
    await aliceAdmin.sendMessage(aliceConnection, "hello bob, via the bridge");
    const hook = await bobHooks.waitFor(
      "Bob's basicmessages webhook",
      (w) => w.topic === "basicmessages" && w.body.content === "hello bob, via the bridge",
      20_000,
    );
    expect(hook.body.connection_id).toBe(bobConnection);
    expect(await deliveredCount(await metrics(), "didcomm")).toBeGreaterThan(before);
    expect(alice.logs).not.toContain("Cannot queue message for delivery");
    const { client, keyspace } = await openRedis(connection);
    try {
      await waitFor("outbound partitions drained", async () => {
        const r = await outboundResidue(client, keyspace);
        return r.backlog === 0 && r.pending === 0 && r.parked === 0;
      });
    } finally {
      await closeRedisClient(client);
    }
  });

  it("posts Alice's connections and basicmessages events to her controller, in order per connection", async () => {
    await bobAdmin.sendMessage(bobConnection, "hello alice");
    await aliceHooks.waitFor(
      "Alice's basicmessages webhook",
      (w) => w.topic === "basicmessages" && w.body.content === "hello alice",
      20_000,
    );
    const mine = aliceHooks.received.filter((w) => w.body.connection_id === aliceConnection);
    const states = mine.filter((w) => w.topic === "connections").map((w) => w.body.state as string);
    // ACA-Py's order for the inviter: request received, response sent, then active.
    const order = ["invitation", "request", "response", "active"];
    const seen = states.filter((s) => order.includes(s));
    expect(seen).toEqual([...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)));
    expect(seen).toContain("active");
    const activeAt = mine.findIndex((w) => w.topic === "connections" && w.body.state === "active");
    const messageAt = mine.findIndex((w) => w.topic === "basicmessages");
    expect(messageAt).toBeGreaterThan(activeAt);
    const hook = mine[messageAt];
    expect(hook?.path).toBe("/topic/basicmessages/");
    expect(hook?.headers["x-api-key"]).toBe("alice-api-key");
    expect(hook?.headers["content-type"]).toBe("application/json");
    // They came through the deliverer, and ACA-Py's own webhook posting was switched off (no second copy).
    expect(await deliveredCount(await metrics(), "webhook")).toBeGreaterThanOrEqual(mine.length);
    const activeCopies = mine.filter((w) => w.topic === "connections" && w.body.state === "active");
    expect(activeCopies).toHaveLength(1);
  });

  it("keeps 50 messages sent while Bob's endpoint is down for 30 s and delivers them all, in order, after it returns", async () => {
    const tag = `down-${Date.now()}`;
    // Bob's ACA-Py handles messages concurrently; holding each answer until Bob has
    // processed the message makes his webhook order show the arrival order.
    bobEndpoint.afterForward = async () => {
      const count = bobHooks.byTopic("basicmessages").length;
      await waitFor("Bob processed it", () => bobHooks.byTopic("basicmessages").length > count, 5_000, 10).catch(
        () => undefined,
      );
    };
    await bobEndpoint.down();
    const downAt = Date.now();
    for (let i = 0; i < 50; i++) {
      await aliceAdmin.sendMessage(aliceConnection, `${tag} ${String(i).padStart(2, "0")}`);
    }
    await holdStill(Math.max(0, 30_000 - (Date.now() - downAt)), "nothing reaches Bob while his endpoint is down");
    expect(bobHooks.byTopic("basicmessages").filter((w) => String(w.body.content).startsWith(tag))).toHaveLength(0);
    await bobEndpoint.up();
    const upAt = Date.now();
    await waitFor(
      "all 50 messages at Bob",
      () => bobHooks.byTopic("basicmessages").filter((w) => String(w.body.content).startsWith(tag)).length >= 50,
      60_000,
      100,
    );
    const contents = bobHooks
      .byTopic("basicmessages")
      .map((w) => String(w.body.content))
      .filter((c) => c.startsWith(tag));
    console.log(`[endpoint down 30 s] 50 messages delivered ${Date.now() - upAt} ms after the endpoint returned`);
    expect(contents).toEqual(Array.from({ length: 50 }, (_, i) => `${tag} ${String(i).padStart(2, "0")}`));
    bobEndpoint.afterForward = undefined;
  }, 150_000);
});
