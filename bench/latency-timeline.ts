import { readFileSync } from 'node:fs';
import { nearestRank } from './percentile';

/**
 * `node dist/bench/latency-timeline.js <dump.json> [bucket ms=500]`: when in an open-model step the
 * slow answers came. Reads a dump written under HOOKFLOW_BENCH_LATENCY_DIR (bench/open-load.ts:
 * one [scheduled ms after the step's start, latency ms] per answered request) and prints, per
 * bucket of scheduled time, the requests, p50 and p99 latency (nearest rank, as the report).
 */
function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: latency-timeline.js <dump.json> [bucket ms]');
  const bucketMs = Number(process.argv[3] ?? 500);
  const samples = JSON.parse(readFileSync(file, 'utf8')) as Array<[number, number]>;
  const buckets = new Map<number, number[]>();
  for (const [scheduledMs, latencyMs] of samples) {
    const key = Math.floor(scheduledMs / bucketMs);
    const list = buckets.get(key) ?? [];
    list.push(latencyMs);
    buckets.set(key, list);
  }
  process.stdout.write('from s | requests | p50 ms | p99 ms\n');
  for (const [key, latencies] of [...buckets].sort((a, b) => a[0] - b[0])) {
    latencies.sort((a, b) => a - b);
    process.stdout.write(
      `${((key * bucketMs) / 1000).toFixed(1)} | ${latencies.length} | ${nearestRank(latencies, 50)} | ${nearestRank(latencies, 99)}\n`,
    );
  }
}

main();
