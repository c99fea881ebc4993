import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** How often the event loop's delay is sampled (acapy_bridge_process_nodejs_eventloop_lag_*). */
const EVENT_LOOP_SAMPLE_MS = 100;

/** One registry per process (or per relay/deliverer in a combined process). */
export function createMetricsRegistry(defaultLabels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(defaultLabels);
  collectDefaultMetrics({
    register: registry,
    prefix: "acapy_bridge_process_",
    // The event-loop delay monitor is a timer on the loop: at prom-client's default 10 ms it woke an
    // idle bridge 100 times a second (about 80% of its wake-ups, each costing CPU on a busy host);
    // ten samples a second still show any lag worth alerting on.
    eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
  });
  return registry;
}

/** Latency buckets in seconds, from 100 µs (loopback Redis) to 30 s (slow endpoints). */
export const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export { Counter, Gauge, Histogram, Registry };
