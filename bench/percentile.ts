/**
 * Nearest-rank percentile of ascending `sorted` values (0 when empty): the one definition behind the
 * report's p50/p90/p99 (open-load.ts) and the latency timeline.
 */
export function nearestRank(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
