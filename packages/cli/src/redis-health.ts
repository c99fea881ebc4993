import type { Logger, ReadinessCheck } from "@acapy-bridge/operability";
import type { RedisClient } from "@acapy-bridge/protocol";
import { describeRedisFailure, type RedisFailure } from "./redis-failure.js";

/** How often the process asks Redis whether it still answers. */
export const REDIS_PING_INTERVAL_MS = 500;
/**
 * A Redis that answered no PING for this long counts as hung: a stopped (SIGSTOP) or wedged server
 * keeps its TCP connection open, so the client's own status stays "ready" while nothing is answered.
 * With a PING every 500 ms, readiness turns within 1.5 s of the last answer.
 */
export const REDIS_UNRESPONSIVE_AFTER_MS = 1_000;

/**
 * The process's view of its Redis connection for readiness and for the operator: connected, and
 * answering. While it fails, `reason` says why in words (wrong password, TLS, refused, hung), and
 * each new reason is logged once at warn (not every reconnect attempt).
 */
export class RedisHealth {
  private timer: NodeJS.Timeout | undefined;
  private pingInFlight = false;
  private lastAnswerAt = 0;
  private lastFailure: RedisFailure | undefined;
  private loggedReason: string | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly logger: Logger,
  ) {
    client.on("error", (error: Error) => this.onError(error));
    client.on("ready", () => {
      this.ping();
    });
  }

  start(): void {
    this.timer = setInterval(() => this.ping(), REDIS_PING_INTERVAL_MS);
    this.timer.unref();
    this.ping();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get readinessCheck(): ReadinessCheck {
    return { name: "redis", check: () => this.isHealthy(), reason: () => this.reason() };
  }

  isHealthy(now: number = Date.now()): boolean {
    return this.client.status === "ready" && now - this.lastAnswerAt < REDIS_UNRESPONSIVE_AFTER_MS;
  }

  reason(now: number = Date.now()): string | undefined {
    if (this.client.status === "ready") {
      if (this.isHealthy(now)) return undefined;
      return this.lastAnswerAt === 0
        ? "connected to Redis, waiting for its first answer"
        : `Redis answered no PING for ${now - this.lastAnswerAt} ms (hung or overloaded)`;
    }
    const failure = this.lastFailure;
    return failure ? `${failure.kind}: ${failure.detail}` : `not connected to Redis (${this.client.status})`;
  }

  private ping(): void {
    if (this.pingInFlight || this.client.status !== "ready") return;
    this.pingInFlight = true;
    this.client.ping().then(
      () => {
        this.pingInFlight = false;
        this.lastAnswerAt = Date.now();
        this.lastFailure = undefined;
        if (this.loggedReason !== undefined) {
          this.loggedReason = undefined;
          this.logger.info({ event: "redis.recovered" }, "Redis answers again");
        }
      },
      (error: Error) => {
        this.pingInFlight = false;
        this.onError(error);
      },
    );
    // A PING that stays unanswered is itself the failure: say so once, while it lasts.
    setTimeout(() => {
      if (this.pingInFlight && !this.isHealthy()) {
        this.report({ kind: "timeout", detail: `Redis answered no PING within ${REDIS_UNRESPONSIVE_AFTER_MS} ms` });
      }
    }, REDIS_UNRESPONSIVE_AFTER_MS).unref();
  }

  private onError(error: Error): void {
    const failure = describeRedisFailure(error);
    this.lastFailure = failure;
    this.report(failure);
  }

  private report(failure: RedisFailure): void {
    // One warn per kind of failure: a reconnect loop repeats the same error every few hundred ms.
    const key = failure.kind;
    if (key === this.loggedReason) {
      this.logger.debug({ event: "redis.error", reason: failure.kind, err: failure.detail }, "redis client error");
      return;
    }
    this.loggedReason = key;
    this.logger.warn({ event: "redis.unreachable", reason: failure.kind, err: failure.detail }, failure.detail);
  }
}
