import { createDelivererMetrics } from "@acapy-bridge/deliverer";
import { createMetricsRegistry, Histogram } from "@acapy-bridge/operability";
import { createRelayMetrics } from "@acapy-bridge/relay";

/**
 * Every series name the bridge exports: the relay's, the deliverer's and the process metrics, built
 * the way `acapy-bridge all` builds them, Node's default process metrics included (the shim's own
 * listener, off by default, is not what the dashboard and the rules watch). The names are read without a scrape, so the relay's gauge sources are never called.
 */
export function exportedSeriesNames(): Set<string> {
  const registry = createMetricsRegistry({ mode: "all" });
  const neverRead = new Proxy({}, { get: () => () => 0 }) as Parameters<typeof createRelayMetrics>[1];
  createRelayMetrics(registry, neverRead);
  createDelivererMetrics(registry);
  return new Set(
    registry
      .getMetricsAsArray()
      .flatMap((metric) =>
        metric instanceof Histogram ? ["_bucket", "_sum", "_count"].map((s) => `${metric.name}${s}`) : [metric.name],
      ),
  );
}

/**
 * The bridge's metric names a PromQL expression uses, Node's standard process metrics included
 * (not label values: `reason="process_limit"` names no metric).
 */
export function metricNamesIn(promql: string): string[] {
  return [...promql.matchAll(/(?<![\w"'])(?:acapy_bridge|process|nodejs)_[a-z0-9_]+/g)].map((m) => m[0]);
}
