import { pino } from "pino";
import { redactSecrets } from "./secret-redaction.js";

export type Logger = pino.Logger;

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * One JSON line per event on stdout. `component` and `instance` are on every
 * line so that logs of many instances can be merged and filtered.
 */
export function createLogger(options: {
  component: string;
  instance: string;
  level?: LogLevel;
  /** Where lines go (stdout unless given; tests read them back). */
  destination?: pino.DestinationStream;
}): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? "info",
    base: { component: options.component, instance: options.instance },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactSecrets(bindings),
    },
    // Secrets never reach a log line, whatever a caller passes: every argument of every
    // line (fields, message, error) goes through one redaction, so no call site has to remember.
    hooks: {
      logMethod(args, method) {
        method.apply(this, redactSecrets(args) as Parameters<typeof method>);
      },
    },
  };
  const logger = options.destination ? pino(settings, options.destination) : pino(settings);
  // pino applies no formatter to a child's bindings; children inherit this `child` (they are
  // created from their parent's prototype), so grandchildren are covered too.
  const makeChild = logger.child;
  logger.child = function redactedChild(this: Logger, bindings, childOptions) {
    return makeChild.call(this, redactSecrets(bindings), childOptions);
  } as typeof logger.child;
  return logger;
}

/** A logger that writes nothing (unit tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
