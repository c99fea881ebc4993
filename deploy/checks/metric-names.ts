import { createDelivererMetrics } from "@acapy-bridge/deliverer";
import { createMetricsRegistry } from "@acapy-bridge/operability";
import { createRelayMetrics } from "@acapy-bridge/relay";

/** What a histogram or summary exports beside its own name. */
const SERIES_SUFFIXES: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/**
 * Every series name the bridge exports: the relay's, the deliverer's and the process metrics, built
 * the way `acapy-bridge all` builds them (the shims export none: they count in Redis, which the relay reports).
 */
export async function exportedSeriesNames(): Promise<Set<string>> {
  const registry = createMetricsRegistry({ instance: "deploy-files-test", mode: "all" });
  createRelayMetrics(registry, {
    openSockets: () => 0,
    framesInFlight: () => 0,
    pendingRequests: () => 0,
    openConnections: () => 0,
    bodyBytesInFlight: () => 0,
    inboundBacklog: async () => [],
    inboundDeadLetters: async () => [],
    inboxBacklog: async () => 0,
    walletDeadLetters: async () => ({}),
    walletCounts: async () => ({}),
  });
  createDelivererMetrics(registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    for (const suffix of SERIES_SUFFIXES[String(metric.type)] ?? [""]) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

/** The bridge's metric names a PromQL expression uses. */
export function metricNamesIn(promql: string): string[] {
  return [...promql.matchAll(/\bacapy_bridge_[a-z0-9_]+/g)].map((m) => m[0]);
}
