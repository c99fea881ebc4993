import { Registry } from "@acapy-bridge/operability";
import { describe, expect, it } from "vitest";
import { createRelayMetrics } from "./relay-metrics.js";

/** The relay's metrics with stub sources; `walletDeadLetters` is what the test varies. */
function metricsWith(walletDeadLetters: () => Promise<Record<string, string>>): Registry {
  const registry = new Registry();
  createRelayMetrics(registry, {
    openSockets: () => 0,
    pendingRequests: () => 0,
    inboundBacklog: async () => [],
    inboxBacklog: async () => 0,
    walletDeadLetters,
  });
  return registry;
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
