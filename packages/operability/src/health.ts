/** A named condition that must hold for the process to be ready (e.g. "redis"). */
export interface ReadinessCheck {
  name: string;
  check: () => boolean;
  /** Why the check fails, in words for the operator (shown by /health/ready while it fails). */
  reason?: () => string | undefined;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
  /** Present only while a failing check says why. */
  reasons?: Record<string, string>;
}

/**
 * Liveness says "do not restart me"; readiness says "send me traffic". A
 * process that lost Redis is alive but not ready.
 */
export class Health {
  private readonly checks: ReadinessCheck[] = [];
  private shuttingDown = false;

  addReadinessCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  readiness(): Readiness {
    const results = this.checks.map((c) => ({ check: c, ok: c.check() }));
    const checks = Object.fromEntries(results.map(({ check, ok }) => [check.name, ok]));
    const readiness: Readiness = { ready: !this.shuttingDown && results.every(({ ok }) => ok), checks };
    const reasons: Record<string, string> = {};
    for (const { check, ok } of results) {
      const reason = ok ? undefined : check.reason?.();
      if (reason) reasons[check.name] = reason;
    }
    if (Object.keys(reasons).length > 0) readiness.reasons = reasons;
    return readiness;
  }
}
