import { Counter, type Registry } from "@acapy-bridge/operability";

/** What became of one event handed to this consumer. */
export type EventOutcome = "handled" | "filtered" | "failed_attempt" | "given_up" | "undecodable" | "trimmed";

export interface EventsMetrics {
  outcome(outcome: EventOutcome, count?: number): void;
  claimed(count: number): void;
}

/** acapy_bridge_controller_* counters, on `registry` when given (else counted nowhere). */
export function createEventsMetrics(registry: Registry | undefined, group: string): EventsMetrics {
  if (!registry) return { outcome: () => undefined, claimed: () => undefined };
  const events = new Counter({
    name: "acapy_bridge_controller_events_total",
    help: "Events from the events streams by outcome: handled, filtered, failed_attempt (the handler threw and it is retried), given_up (after the last attempt; logged and acknowledged), undecodable, trimmed (pending but trimmed from the stream)",
    labelNames: ["group", "outcome"],
    registers: [registry],
  });
  const claimed = new Counter({
    name: "acapy_bridge_controller_events_claimed_total",
    help: "Events taken over from a consumer of the group that had been silent for the claim idle time",
    labelNames: ["group"],
    registers: [registry],
  });
  return {
    outcome: (outcome, count = 1) => events.inc({ group, outcome }, count),
    claimed: (count) => claimed.inc({ group }, count),
  };
}
