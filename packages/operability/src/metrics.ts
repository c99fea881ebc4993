import { readFileSync } from "node:fs";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** How often the event loop's delay is sampled (nodejs_eventloop_lag_*). */
const EVENT_LOOP_SAMPLE_MS = 100;

/** The bridge's release: every workspace package carries the same version. */
export const BRIDGE_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/**
 * One registry per process (or per relay/deliverer in a combined process). Prometheus conventions:
 * no `instance` label of our own (the scraper sets its own, and a per-start id would churn every
 * series on each restart), Node's default metrics under their standard names (`process_*`,
 * `nodejs_*`) so that stock dashboards and alerts work, and `acapy_bridge_build_info` (1, labelled
 * with the version) to tell releases apart in a rolling update.
 */
export function createMetricsRegistry(defaultLabels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({
    register: registry,
    // The event-loop delay monitor is a timer on the loop: at prom-client's default 10 ms it woke an
    // idle bridge 100 times a second (about 80% of its wake-ups, each costing CPU on a busy host);
    // ten samples a second still show any lag worth alerting on.
    eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
  });
  new Gauge({
    name: "acapy_bridge_build_info",
    help: "Always 1; its labels name the running release (version) and Node.js version.",
    labelNames: ["version", "nodejs_version"],
    registers: [registry],
  }).set({ version: BRIDGE_VERSION, nodejs_version: process.version }, 1);
  return registry;
}

/** Latency buckets in seconds, from 100 µs (loopback Redis) to 30 s (slow endpoints). */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export { Counter, Gauge, Histogram, Registry };
