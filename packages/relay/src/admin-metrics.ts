import { Counter, Histogram, LATENCY_BUCKETS, type Registry } from "@acapy-bridge/operability";

/** Why an admin call got no answer from ACA-Py (label `reason` of acapy_bridge_admin_unanswered_total). */
export type AdminUnansweredReason = "no_live_instance" | "not_taken_in_time" | "outcome_unknown" | "redis_error";

export interface AdminMetrics {
  /** Calls answered by the relay's admin listener, by the status it sent. */
  requests: Counter<"status">;
  /** Calls ACA-Py answered, by the instance (its admin executor id) that ran them. */
  executedBy: Counter<"instance">;
  unanswered: Counter<"reason">;
  latency: Histogram<"outcome">;
}

export function createAdminMetrics(registry: Registry): AdminMetrics {
  return {
    requests: new Counter({
      name: "acapy_bridge_admin_requests_total",
      help: "Admin API calls answered by the relay's admin listener, by HTTP status",
      labelNames: ["status"],
      registers: [registry],
    }),
    executedBy: new Counter({
      name: "acapy_bridge_admin_executed_total",
      help: "Admin API calls run by ACA-Py, by the instance that ran them",
      labelNames: ["instance"],
      registers: [registry],
    }),
    unanswered: new Counter({
      name: "acapy_bridge_admin_unanswered_total",
      help: "Admin API calls without an answer from ACA-Py: no live instance (503), not taken in time (503, not run), outcome unknown (504), Redis error",
      labelNames: ["reason"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "acapy_bridge_admin_request_duration_seconds",
      help: "Admin API calls through the relay, from the request's last byte to the answer",
      labelNames: ["outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
}
