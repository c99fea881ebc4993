// The statistics the benchmarks report: percentiles of sorted latencies and the curve the report
// draws them as, medians over rounds.

/** The p-th percentile (0..100) of ascending values; NaN when there are none. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** The median (the mean of the two middle values of an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The percentiles a latency distribution is drawn at: dense in the tail, where the differences are. */
export const CURVE_PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9, 100];

/** [percentile, ms] pairs of a sorted list, rounded to 0.01 ms, for a summary line and its chart. */
export function quantileCurve(sorted: number[]): Array<[number, number]> {
  if (sorted.length === 0) return [];
  return CURVE_PERCENTILES.map((p) => [
    p,
    Number((p === 100 ? (sorted.at(-1) as number) : percentile(sorted, p)).toFixed(2)),
  ]);
}
