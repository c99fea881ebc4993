import type { Logger } from "pino";

type Step = { name: string; run: () => Promise<void> };

/**
 * Graceful shutdown in registration order: first stop taking work, then
 * finish in-flight work, then release leases and close connections. A second
 * signal, or the deadline, exits at once.
 */
export class ShutdownCoordinator {
  private readonly steps: Step[] = [];
  private started: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs = 30_000,
  ) {}

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Exits the process on SIGTERM/SIGINT after running the steps. */
  installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.started) {
        this.logger.warn({ event: "shutdown.forced", signal }, "second signal: exiting now");
        process.exit(1);
      }
      this.logger.info({ event: "shutdown.start", signal }, "shutting down gracefully");
      void this.shutdown().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  shutdown(): Promise<void> {
    this.started ??= this.runSteps();
    return this.started;
  }

  private async runSteps(): Promise<void> {
    const deadline = setTimeout(() => {
      this.logger.error({ event: "shutdown.deadline", deadlineMs: this.deadlineMs }, "shutdown deadline passed");
      process.exit(1);
    }, this.deadlineMs);
    deadline.unref();
    for (const step of this.steps) {
      const started = Date.now();
      try {
        await step.run();
        this.logger.info({ event: "shutdown.step", step: step.name, ms: Date.now() - started }, `stopped ${step.name}`);
      } catch (error) {
        this.logger.error(
          { event: "shutdown.step_failed", step: step.name, err: error },
          `stopping ${step.name} failed`,
        );
      }
    }
    clearTimeout(deadline);
  }
}
