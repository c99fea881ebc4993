import type { Logger } from "@acapy-bridge/operability";
import { DeadLetterReason, JobKind, type OutboundJob } from "@acapy-bridge/protocol";
import type { DelivererMetrics } from "./deliverer-metrics.js";
import { maskedEndpoint } from "./masked-endpoint.js";
import type { TargetCategory } from "./target-policy.js";

function kindLabel(job: OutboundJob | undefined): string {
  if (job?.kind === JobKind.PUSH) return "push";
  return job?.kind === JobKind.WEBHOOK ? "webhook" : "didcomm";
}

/** What became of a partition's jobs and attempts, as metrics and log lines. */
export class EntryOutcomes {
  constructor(
    private readonly partition: number,
    private readonly metrics: DelivererMetrics,
    private readonly logger: Logger,
  ) {}

  /** An attempt starts; call the returned function when it ended. */
  attemptStarted(job: OutboundJob): () => void {
    const started = performance.now();
    this.metrics.inFlight.inc();
    return () => {
      this.metrics.inFlight.dec();
      this.metrics.attemptSeconds.observe({ kind: kindLabel(job) }, (performance.now() - started) / 1000);
    };
  }

  delivered(job: OutboundJob, attempts: number): void {
    const kind = kindLabel(job);
    this.metrics.deliveries.inc({ outcome: "delivered", kind });
    this.metrics.attemptsPerDelivery.observe({ kind }, attempts);
    if (job.createdAtMs > 0n) {
      this.metrics.endToEndSeconds.observe({ kind }, Math.max(0, Date.now() - Number(job.createdAtMs)) / 1000);
    }
  }

  parked(job: OutboundJob): void {
    this.metrics.deliveries.inc({ outcome: "parked", kind: kindLabel(job) });
  }

  retryScheduled(job: OutboundJob): void {
    this.metrics.deliveries.inc({ outcome: "retry_scheduled", kind: kindLabel(job) });
  }

  /** The target policy refused the endpoint's address; the dead letter follows. */
  targetRefused(job: OutboundJob, category: TargetCategory, detail: string): void {
    this.metrics.targetsRefused.inc({ reason: category });
    this.logger.warn(
      {
        event: "deliverer.target_refused",
        partition: this.partition,
        mid: job.mid,
        reason: category,
        endpoint: maskedEndpoint(job.endpoint),
        detail,
      },
      "endpoint address refused by the outbound target policy",
    );
  }

  deadLettered(reason: DeadLetterReason, job: OutboundJob | undefined, detail: string): void {
    const reasonName = DeadLetterReason[reason] ?? String(reason);
    this.metrics.deadLetters.inc({ reason: reasonName });
    this.metrics.deliveries.inc({ outcome: "dead_letter", kind: kindLabel(job) });
    this.logger.warn(
      { event: "deliverer.dead_letter", partition: this.partition, mid: job?.mid, reason: reasonName, detail },
      "message dead-lettered",
    );
  }
}
