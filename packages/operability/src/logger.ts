import { pino } from "pino";

export type Logger = pino.Logger;

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * One JSON line per event on stdout. `component` and `instance` are on every
 * line so that logs of many instances can be merged and filtered.
 */
export function createLogger(options: { component: string; instance: string; level?: LogLevel }): Logger {
  return pino({
    level: options.level ?? "info",
    base: { component: options.component, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // Secrets never reach a log line, whatever a caller passes.
    redact: { paths: ["password", "*.password", "apiKey", "*.apiKey", 'headers["x-api-key"]'], censor: "***" },
  });
}

/** A logger that writes nothing (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
