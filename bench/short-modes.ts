// Each bench in a mode short enough for `npm test` (seconds, not minutes): the smoke test runs every
// bench this way, so a bench that no longer starts from a fresh clone fails the test run.
// A new bench must add its short mode here; the smoke test fails for a bench without one.
export const SHORT_MODES: Record<string, string[]> = {
  admin: ["--calls", "20", "--rounds", "1", "--warm-up", "10"],
  deliverer: ["--duration-ms", "300", "--levels", "1,8", "--rounds", "1", "--drain-warm-up-ms", "100"],
  push: ["--notifications", "200", "--rounds", "1"],
  e2e: ["--round-trips", "10", "--burst", "20", "--rounds", "1", "--warm-up", "20"],
  relay: ["--duration-ms", "300"],
  sessions: ["--sessions", "200", "--rate", "200", "--duration-ms", "1000"],
};
