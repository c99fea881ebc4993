/** `INFO commandstats` as calls by command name, without the CONFIG and INFO of the bench itself. */
export function commandCounts(info: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of info.split("\r\n")) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match && match[1] !== "config" && match[1] !== "info") counts[match[1] as string] = Number(match[2]);
  }
  return counts;
}

/** Calls per unit of work by command between two `commandCounts` readings, most frequent first. */
export function callsPerUnit(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([command, calls]) => [command, (calls - (before[command] ?? 0)) / Math.max(1, units)] as const)
      .filter(([, perUnit]) => perUnit > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([command, perUnit]) => [command, Number(perUnit.toFixed(3))]),
  );
}
