import { Registry } from "@acapy-bridge/operability";
import { describe, expect, it } from "vitest";
import { createRelayMetrics } from "./relay-metrics.js";

type HashRead = () => Promise<Record<string, string>>;

/** The relay's metrics with stub sources; the two Redis hashes are what the tests vary. */
function metricsWith(walletDeadLetters: HashRead, walletCounts: HashRead = async () => ({})): Registry {
  const registry = new Registry();
  createRelayMetrics(registry, {
    openSockets: () => 0,
    framesInFlight: () => 0,
    pendingRequests: () => 0,
    liveShims: () => 0,
    openConnections: () => 0,
    bodyBytesInFlight: () => 0,
    inboundBacklog: async () => [],
    inboundDeadLetters: async () => [],
    inboxBacklog: async () => 0,
    walletDeadLetters,
    walletCounts,
  });
  return registry;
}

/** Every series of one metric, keyed by the value of `label` ("" for a metric without labels). */
async function series(registry: Registry, name: string, label = ""): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric(name)?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels[label] ?? ""), v.value]));
}

async function walletDeadLetters(registry: Registry): Promise<Record<string, number>> {
  const metric = await registry.getSingleMetric("acapy_bridge_wallet_dead_letters_total")?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.reason), v.value]));
}

describe("acapy_bridge_wallet_dead_letters_total", () => {
  it("shows both wallet reasons at 0 before the first dead letter", async () => {
    expect(await walletDeadLetters(metricsWith(async () => ({})))).toEqual({ MAILBOX_FULL: 0, EXPIRED: 0 });
  });

  it("reports the deployment's counts as the shims keep them in Redis, at every scrape", async () => {
    let counts: Record<string, string> = { MAILBOX_FULL: "2" };
    const registry = metricsWith(async () => counts);
    expect(await walletDeadLetters(registry)).toEqual({ MAILBOX_FULL: 2, EXPIRED: 0 });
    counts = { MAILBOX_FULL: "2", EXPIRED: "5" };
    expect(await walletDeadLetters(registry)).toEqual({ MAILBOX_FULL: 2, EXPIRED: 5 });
  });

  it("keeps the last values while Redis cannot be read", async () => {
    let fail = false;
    const registry = metricsWith(async () => {
      if (fail) throw new Error("Redis away");
      return { EXPIRED: "3" };
    });
    expect(await walletDeadLetters(registry)).toEqual({ MAILBOX_FULL: 0, EXPIRED: 3 });
    fail = true;
    expect(await walletDeadLetters(registry)).toEqual({ MAILBOX_FULL: 0, EXPIRED: 3 });
  });
});

describe("wallet mailbox and route metrics (acapy_bridge_wallet_mailbox_messages, _mailbox_moves_total, _route_changes_total)", () => {
  const noDeadLetters = async () => ({});

  it("reports messages waiting in all mailboxes as stored minus taken, and both directions as counters", async () => {
    const registry = metricsWith(noDeadLetters, async () => ({ MAILBOX_IN: "130", MAILBOX_OUT: "30" }));
    const text = await registry.metrics();
    expect(text).toMatch(/^acapy_bridge_wallet_mailbox_messages 100$/m);
    expect(text).toMatch(/^acapy_bridge_wallet_mailbox_moves_total\{direction="in"\} 130$/m);
    expect(text).toMatch(/^acapy_bridge_wallet_mailbox_moves_total\{direction="out"\} 30$/m);
  });

  it("reports route registrations, replacements and clears, each 0 until the first", async () => {
    let counts: Record<string, string> = {};
    const registry = metricsWith(noDeadLetters, async () => counts);
    const changes = "acapy_bridge_wallet_route_changes_total";
    expect(await series(registry, changes, "change")).toEqual({ registered: 0, replaced: 0, cleared: 0 });
    counts = { ROUTE_REGISTERED: "4", ROUTE_REPLACED: "1", ROUTE_CLEARED: "3" };
    expect(await series(registry, changes, "change")).toEqual({ registered: 4, replaced: 1, cleared: 3 });
  });

  it("never reports a negative depth when more was counted out than in (a lost count, mailboxes older than the counts)", async () => {
    const registry = metricsWith(noDeadLetters, async () => ({ MAILBOX_IN: "5", MAILBOX_OUT: "7" }));
    expect(await series(registry, "acapy_bridge_wallet_mailbox_messages")).toEqual({ "": 0 });
  });

  it("reads the counts hash once per scrape for all three metrics", async () => {
    let reads = 0;
    const registry = metricsWith(noDeadLetters, async () => {
      reads++;
      return { MAILBOX_IN: "1" };
    });
    await registry.metrics();
    expect(reads).toBe(1);
    await registry.metrics();
    expect(reads).toBe(2);
  });

  it("keeps the last values while Redis cannot be read", async () => {
    let fail = false;
    const registry = metricsWith(noDeadLetters, async () => {
      if (fail) throw new Error("Redis away");
      return { MAILBOX_IN: "9", MAILBOX_OUT: "2", ROUTE_REGISTERED: "1" };
    });
    await registry.metrics();
    fail = true;
    expect(await series(registry, "acapy_bridge_wallet_mailbox_messages")).toEqual({ "": 7 });
    expect(await series(registry, "acapy_bridge_wallet_mailbox_moves_total", "direction")).toEqual({ in: 9, out: 2 });
    expect((await series(registry, "acapy_bridge_wallet_route_changes_total", "change")).registered).toBe(1);
  });
});
