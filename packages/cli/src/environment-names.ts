import { type OptionSpec, OptionsError } from "@acapy-bridge/operability";

const PREFIX = "ACAPY_BRIDGE_";
/** ACAPY_BRIDGE_* variables that are not options of the command: the test runner's own. */
const NOT_OPTIONS = new Set(["ACAPY_BRIDGE_ALLOW_SKIPS"]);

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * Refuses an ACAPY_BRIDGE_* variable that no acapy-bridge command reads: a
 * misspelled one would otherwise be ignored and its default used in silence.
 * `known` is every command's options, so one environment can serve all of them.
 */
export function checkEnvironmentNames(env: NodeJS.ProcessEnv, known: readonly OptionSpec[]): void {
  const names = new Set(known.map((spec) => spec.env));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(PREFIX) || names.has(name) || NOT_OPTIONS.has(name)) continue;
    let closest: string | undefined;
    let best = Number.POSITIVE_INFINITY;
    for (const candidate of names) {
      const distance = editDistance(name, candidate);
      if (distance < best) [closest, best] = [candidate, distance];
    }
    const hint =
      closest !== undefined && best <= Math.max(2, Math.floor(name.length / 5)) ? ` (did you mean ${closest}?)` : "";
    throw new OptionsError(`unknown environment variable ${name}${hint}: no acapy-bridge option reads it`);
  }
}
