/** A named condition that must hold for the process to be ready (e.g. "redis"). */
export interface ReadinessCheck {
  name: string;
  check: () => boolean;
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

  readiness(): { ready: boolean; checks: Record<string, boolean> } {
    const checks = Object.fromEntries(this.checks.map((c) => [c.name, c.check()]));
    return { ready: !this.shuttingDown && Object.values(checks).every(Boolean), checks };
  }
}
