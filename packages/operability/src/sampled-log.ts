import type { Logger } from "./logger.js";

type Level = "error" | "warn" | "info";

interface Window {
  openedAt: number;
  suppressed: number;
  level: Level;
  fields: Record<string, unknown>;
  message: string;
  timer: NodeJS.Timeout | undefined;
}

/** Default interval of sampled log lines: one line per kind, then one summary, every 10 s. */
export const SAMPLED_LOG_INTERVAL_MS = 10_000;

/**
 * Log lines for events that can come by the thousand (rejected requests during
 * a Redis outage, a flood of bad bodies): the first line of a kind is written,
 * the rest of its interval only counted, and at the interval's end one summary
 * line says how many were left out (`suppressed`). Metrics still count each
 * event; this only bounds the log. A kind is a small fixed set (event, reason,
 * transport), never a per-client value, so the map stays small.
 */
export class SampledLog {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number = SAMPLED_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write("warn", kind, fields, message);
  }

  error(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write("error", kind, fields, message);
  }

  info(kind: string, fields: Record<string, unknown>, message: string): void {
    this.write("info", kind, fields, message);
  }

  private write(level: Level, kind: string, fields: Record<string, unknown>, message: string): void {
    if (this.intervalMs <= 0) {
      this.logger[level](fields, message);
      return;
    }
    const now = this.now();
    const window = this.windows.get(kind);
    if (window === undefined || (window.suppressed === 0 && now - window.openedAt >= this.intervalMs)) {
      this.logger[level](fields, message);
      this.windows.set(kind, { openedAt: now, suppressed: 0, level, fields, message, timer: undefined });
      return;
    }
    window.suppressed++;
    window.level = level;
    window.fields = fields;
    window.message = message;
    if (window.timer === undefined) {
      const delay = Math.max(0, window.openedAt + this.intervalMs - now);
      window.timer = setTimeout(() => this.summarize(window), delay);
      window.timer.unref();
    }
  }

  private summarize(window: Window): void {
    window.timer = undefined;
    if (window.suppressed === 0) return;
    const seconds = this.intervalMs / 1000;
    this.logger[window.level](
      { ...window.fields, suppressed: window.suppressed, sampleIntervalMs: this.intervalMs },
      `${window.message} (and ${window.suppressed} more like it in the last ${seconds} s, not logged one by one)`,
    );
    window.openedAt = this.now();
    window.suppressed = 0;
  }

  /** Writes the summaries still waiting (at shutdown), and forgets every window. */
  flush(): void {
    for (const window of this.windows.values()) {
      if (window.timer) clearTimeout(window.timer);
      this.summarize(window);
    }
    this.windows.clear();
  }
}
