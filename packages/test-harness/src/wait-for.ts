/**
 * Polls `check` until it returns a truthy value, or fails after `timeoutMs` with `what` (a function
 * is called at the timeout, so the message can show the state the wait ended in).
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const description = typeof what === "function" ? what() : what;
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${description}${lastError ? `: ${String(lastError)}` : ""}`,
  );
}

/**
 * Waits `ms` on purpose, where the window itself is the point: something must NOT happen meanwhile
 * (no delivery, no reply, no second attempt; the caller checks afterwards), or a process is given
 * the time it is meant to have (a blocked read running out, a load generator's pace). Not for
 * waiting until something does happen: use waitFor for that. `why` says what the window is for, so
 * a reader can tell it is no race.
 */
export async function holdStill(ms: number, why: string): Promise<void> {
  if (!why) throw new Error("holdStill needs a reason");
  await new Promise((r) => setTimeout(r, ms));
}
