/**
 * Why an admin call got no answer from ACA-Py. Each error carries the HTTP status a listener
 * answers with, and says whether the call can have run.
 */

export type NotExecutedReason = "no-live-instance" | "not-taken-in-time" | "redis-unreachable";

const NOT_EXECUTED_BECAUSE: Record<NotExecutedReason, string> = {
  "no-live-instance": "no live ACA-Py instance serves admin calls",
  "not-taken-in-time": "no ACA-Py instance took it in time; it was withdrawn",
  "redis-unreachable": "Redis could not be asked which ACA-Py instances are alive; nothing was queued",
};

/**
 * 503: the call did not run and never will. No ACA-Py instance serves admin calls now (answered at
 * once), none took the call before its timeout (it was withdrawn), or Redis did not answer before
 * anything was queued: safe to retry.
 */
export class AdminNoLiveInstanceError extends Error {
  override name = "AdminNoLiveInstanceError";
  readonly status = 503;
  readonly executed = false;

  constructor(
    readonly reason: NotExecutedReason,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path} was not executed: ${NOT_EXECUTED_BECAUSE[reason]}`);
  }
}

/**
 * 504: an ACA-Py instance took the call and no answer came before the timeout (the call is slow,
 * or the instance died running it). It may or may not have taken effect, and it is never run
 * again: check ACA-Py's records before repeating it.
 */
export class AdminOutcomeUnknownError extends Error {
  override name = "AdminOutcomeUnknownError";
  readonly status = 504;
  readonly executed = "unknown";

  constructor(
    readonly method: string,
    readonly path: string,
    readonly timeoutMs: number,
  ) {
    super(
      `${method} ${path}: an ACA-Py instance took the call but did not answer within ${timeoutMs} ms; ` +
        "its outcome is unknown and it will not be run again",
    );
  }
}
