import { Counter, Gauge, Histogram, LATENCY_BUCKETS, type Registry } from "@acapy-bridge/operability";

export type DeliveryOutcomeLabel = "delivered" | "retry_scheduled" | "dead_letter" | "parked";

export interface DelivererMetrics {
  /** Attempts and what became of them, by job kind (didcomm, webhook). */
  deliveries: Counter<"outcome" | "kind">;
  /** One attempt: from send to answer. */
  attemptSeconds: Histogram<"kind">;
  /** From the shim's enqueue to the delivered answer (includes queueing and retries). */
  endToEndSeconds: Histogram<"kind">;
  /** Attempts a delivered job needed. */
  attemptsPerDelivery: Histogram<"kind">;
  deadLetters: Counter<"reason">;
  /** Attempts the outbound target policy refused, by the refused address's category (loopback, private, ...). */
  targetsRefused: Counter<"reason">;
  ownedPartitions: Gauge;
  inFlight: Gauge;
  /** Entries of owned partitions not yet read (XINFO GROUPS lag) plus read but unacknowledged. */
  lag: Gauge<"partition">;
  parkedRecipients: Gauge<"partition">;
  leaseEvents: Counter<"event">;
  /** Pending entries nothing held that the periodic sweep took over (a lost read reply, a previous owner still reading). */
  strandedEntries: Counter;
  /**
   * Time a partition's reading waited because its buffer was full: every recipient of the
   * partition waits meanwhile, usually behind one slow but answering endpoint.
   */
  readingPausedSeconds: Counter<"partition">;
  /** Push notification attempts by platform (fcm, apns), where they went (fcm, apns, webhook) and result. */
  pushNotifications: Counter<"platform" | "via" | "result">;
}

/** The owned partitions' figures behind the per-partition gauges, read when the metrics are scraped. */
export interface OwnedPartitionFigures {
  /** [partition, lag] of each owned partition (Redis: one XINFO GROUPS each). */
  lag: () => Promise<Array<[number, number]>>;
  /** [partition, parked recipients] of each owned partition (in memory). */
  parked: () => Array<[number, number]>;
}

const NO_PARTITIONS: OwnedPartitionFigures = { lag: async () => [], parked: () => [] };

export function createDelivererMetrics(
  registry: Registry,
  owned: OwnedPartitionFigures = NO_PARTITIONS,
): DelivererMetrics {
  const registers = [registry];
  return {
    deliveries: new Counter({
      name: "acapy_bridge_deliverer_deliveries_total",
      help: "Delivery attempts by outcome (delivered, retry_scheduled, dead_letter) and parked jobs",
      labelNames: ["outcome", "kind"],
      registers,
    }),
    attemptSeconds: new Histogram({
      name: "acapy_bridge_deliverer_attempt_seconds",
      help: "Duration of one delivery attempt",
      labelNames: ["kind"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    endToEndSeconds: new Histogram({
      name: "acapy_bridge_deliverer_delivery_latency_seconds",
      help: "From enqueue by the shim to a 2xx from the endpoint",
      labelNames: ["kind"],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    attemptsPerDelivery: new Histogram({
      name: "acapy_bridge_deliverer_attempts",
      help: "Attempts a delivered job needed",
      labelNames: ["kind"],
      buckets: [1, 2, 3, 5, 8, 13, 21],
      registers,
    }),
    deadLetters: new Counter({
      name: "acapy_bridge_deliverer_dead_letters_total",
      help: "Jobs dead-lettered, by reason",
      labelNames: ["reason"],
      registers,
    }),
    targetsRefused: new Counter({
      name: "acapy_bridge_deliverer_targets_refused_total",
      help: "Agent endpoints refused by the outbound target policy (--outbound-allow-cidrs), by address category",
      labelNames: ["reason"],
      registers,
    }),
    ownedPartitions: new Gauge({
      name: "acapy_bridge_deliverer_owned_partitions",
      help: "Outbound partitions this deliverer holds the lease of",
      registers,
    }),
    inFlight: new Gauge({
      name: "acapy_bridge_deliverer_in_flight",
      help: "Delivery attempts in flight",
      registers,
    }),
    lag: new Gauge({
      name: "acapy_bridge_deliverer_lag",
      help: "Backlog of an owned outbound partition: entries not yet read plus read but unacknowledged",
      labelNames: ["partition"],
      registers,
      // Read at scrape time, not on a timer: a deliverer nobody scrapes sends Redis nothing for it.
      async collect() {
        try {
          const figures = await owned.lag();
          this.reset();
          for (const [partition, lag] of figures) this.set({ partition: String(partition) }, lag);
        } catch {
          // Redis away: keep the last values; readiness says the rest.
        }
      },
    }),
    parkedRecipients: new Gauge({
      name: "acapy_bridge_deliverer_parked_recipients",
      help: "Recipients in backoff in an owned outbound partition",
      labelNames: ["partition"],
      registers,
      collect() {
        this.reset();
        for (const [partition, parked] of owned.parked()) this.set({ partition: String(partition) }, parked);
      },
    }),
    leaseEvents: new Counter({
      name: "acapy_bridge_deliverer_lease_events_total",
      help: "Partition lease events (acquired, released, lost, self_fenced)",
      labelNames: ["event"],
      registers,
    }),
    strandedEntries: new Counter({
      name: "acapy_bridge_deliverer_stranded_entries_total",
      help: "Pending entries nothing held (a lost read reply, a previous owner still reading) taken over by the sweep",
      registers,
    }),
    readingPausedSeconds: new Counter({
      name: "acapy_bridge_deliverer_reading_paused_seconds_total",
      help: "Seconds an owned outbound partition's reading waited for room in its buffer (--delivery-partition-buffer)",
      labelNames: ["partition"],
      registers,
    }),
    pushNotifications: new Counter({
      name: "acapy_bridge_push_notifications_total",
      help: "Push notification attempts by platform, by what they went through (fcm, apns, webhook, none) and result (sent, failed, unregistered, not_configured, platform_off)",
      labelNames: ["platform", "via", "result"],
      registers,
    }),
  };
}
