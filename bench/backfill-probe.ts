import { Client, Connection } from '@temporalio/client';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { formatReport } from './format-report';
import { BACKFILL_PROGRESS_QUERY, backfillResourceWorkflowId, backfillWorkflowId } from '../src/contracts';
import { FakeStripe } from '../src/fake-stripe/fake-stripe';
import type { SnapshotResource } from '../src/stripe/snapshot-resources';
import type { ResourceProgress } from '../workflows/backfill-stripe';
import { REPO_ROOT } from './hookflow';
import { progress, runCleanups, sleep, spawnChild } from './procs';
import { hookflowEnv, startBenchStack, TASK_QUEUE } from './stack';

/**
 * Backfill scenario (issue "Complete data"): 10,000 objects over 5 resources from a local fake Stripe
 * API, through the production-shape worker process, twice — under a low request cap, so the cap and
 * not the database is what binds (on a 2-core FerretDB stack the state writes hold a 5-resource
 * backfill to well under 1 page/s), then with the sandbox maximum (25/s), for objects/s. Reports the
 * achieved request rate against the cap and the progress seen through the `backfillProgress` query.
 * The achieved rate is (requests - 1) over the fake's first-to-last request times, so worker start-up
 * and the final state writes do not count against the cap; the gaps between requests show how even
 * the pacing was. Asserts nothing. `node dist/bench/backfill-probe.js [--cap 0.5] [--objects 10000]`; writes
 * bench/results/backfill-<timestamp>.{json,md}.
 */
const RESOURCES: SnapshotResource[] = ['customer', 'product', 'price', 'coupon', 'payout'];
const KEY = 'sk_test_bench_0123456789';

interface Scenario {
  label: string;
  capPerSecond: number;
  objects: number;
  pages: number;
  seconds: number;
  /** List requests per second, first to last request. */
  requestsPerSecond: number;
  capShare: number;
  objectsPerSecond: number;
  querySamples: number;
  /** Objects reported by the query at roughly a quarter, half and three quarters of the run. */
  queryMidpoints: number[];
  /** Milliseconds between consecutive list requests (the fake's arrival times): p10, p50, p90, max. */
  gapsMs: { p10: number; p50: number; p90: number; max: number };
  /** 1-minute load average of the machine when the run started and ended (2 cores). */
  load: { start: number; end: number };
}

async function runScenario(label: string, cap: number, total: number): Promise<Scenario> {
  const stack = await startBenchStack(`backfill-${label}`);
  const fake = new FakeStripe();
  const url = await fake.listen();
  for (const resource of RESOURCES) fake.seed(resource, total / RESOURCES.length);
  const env = {
    ...hookflowEnv(stack, 0),
    STRIPE_API_KEY: KEY,
    STRIPE_API_BASE: url,
    STRIPE_API_SANDBOX_REQUESTS_PER_SECOND: String(cap),
  };
  mkdirSync(join(stack.dataDir, 'logs'), { recursive: true });
  const passThrough = Object.fromEntries(['PATH', 'HOME', 'TMPDIR'].map((key) => [key, process.env[key] ?? '']));
  const worker = spawnChild(
    'worker',
    process.execPath,
    [join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'), 'worker'],
    { ...passThrough, ...env, LOG_LEVEL: 'info' },
    join(stack.dataDir, 'logs', 'worker.log'),
  );
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const client = new Client({ connection });
  try {
    for (let waited = 0; !worker.logTail(50).includes('worker running'); waited += 200) {
      if (waited > 180_000) throw new Error(`worker not ready:\n${worker.logTail()}`);
      await sleep(200);
    }
    const runId = `bench-${label}`;
    const loadAtStart = loadavg()[0]!;
    const started = Date.now();
    const handle = await client.workflow.start('backfillStripe', {
      taskQueue: TASK_QUEUE,
      workflowId: backfillWorkflowId('default', runId),
      args: [{ tenantId: 'default', runId, resources: RESOURCES, since: null }],
    });
    const samples: Array<{ at: number; objects: number }> = [];
    let done = false;
    void handle.result().finally(() => (done = true));
    while (!done) {
      const objects = await Promise.all(
        RESOURCES.map((resource) =>
          client.workflow
            .getHandle(backfillResourceWorkflowId('default', runId, resource))
            .query<ResourceProgress>(BACKFILL_PROGRESS_QUERY)
            .then((p) => p.objects)
            .catch(() => 0),
        ),
      );
      samples.push({ at: Date.now() - started, objects: objects.reduce((a, b) => a + b, 0) });
      progress(
        `backfill ${label}: ${samples.at(-1)!.objects}/${total} objects after ${(samples.at(-1)!.at / 1000).toFixed(0)} s`,
      );
      await sleep(1000);
    }
    await handle.result();
    const lists = fake.requests;
    const seconds = (Date.now() - started) / 1000;
    const pages = lists.length;
    const window = requestWindowSeconds(fake);
    const requestsPerSecond = pages > 1 ? (pages - 1) / window : 0;
    const quarter = (share: number) => samples.find((s) => s.at >= samples.at(-1)!.at * share)?.objects ?? 0;
    return {
      label,
      capPerSecond: cap,
      objects: total,
      pages,
      seconds: round(seconds),
      requestsPerSecond: round(requestsPerSecond),
      capShare: round(requestsPerSecond / cap),
      objectsPerSecond: round(total / seconds),
      querySamples: samples.length,
      queryMidpoints: [quarter(0.25), quarter(0.5), quarter(0.75)],
      gapsMs: requestGaps(fake),
      load: { start: round(loadAtStart), end: round(loadavg()[0]!) },
    };
  } finally {
    await worker.stop();
    await connection.close();
    await fake.close();
    await stack.stop();
  }
}

/** Seconds from the first to the last list request the fake answered. */
function requestWindowSeconds(fake: FakeStripe): number {
  const stamps = fake.requests.map((request) => request.at);
  return (Math.max(...stamps) - Math.min(...stamps)) / 1000;
}

function requestGaps(fake: FakeStripe): Scenario['gapsMs'] {
  const stamps = fake.requests.map((request) => request.at).sort((a, b) => a - b);
  const gaps = stamps
    .slice(1)
    .map((at, index) => at - stamps[index]!)
    .sort((a, b) => a - b);
  const at = (share: number) => gaps[Math.floor(share * (gaps.length - 1))] ?? 0;
  return { p10: at(0.1), p50: at(0.5), p90: at(0.9), max: gaps.at(-1) ?? 0 };
}

const round = (value: number) => Math.round(value * 100) / 100;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number) => {
    const index = args.indexOf(name);
    return index >= 0 ? Number(args[index + 1]) : fallback;
  };
  const cap = option('--cap', 0.5);
  const objects = option('--objects', 10_000);
  const capped = await runScenario('capped', cap, objects);
  process.stdout.write(`${JSON.stringify({ capped })}\n`);
  const unthrottled = await runScenario('unthrottled', 25, objects);
  process.stdout.write(`${JSON.stringify({ unthrottled })}\n`);
  const report = { at: new Date().toISOString(), resources: RESOURCES, capped, unthrottled };
  const stamp = report.at.replace(/[-:]/g, '').replace(/\.\d+/, '');
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const write = async (name: string, text: string) => {
    const filepath = join(dir, name);
    writeFileSync(filepath, await formatReport(text, filepath));
  };
  await write(`backfill-${stamp}.json`, JSON.stringify(report));
  const line = (s: Scenario) =>
    `| ${s.label} | ${s.capPerSecond} | ${s.objects} | ${s.pages} | ${s.seconds} | ${s.requestsPerSecond} | ${Math.round(s.capShare * 1000) / 10} % | ${s.objectsPerSecond} | ${s.gapsMs.p10} / ${s.gapsMs.p50} / ${s.gapsMs.p90} / ${s.gapsMs.max} | ${s.queryMidpoints.join(' / ')} | ${s.load.start} → ${s.load.end} |`;
  await write(
    `backfill-${stamp}.md`,
    [
      `# Backfill probe ${report.at}`,
      '',
      `${objects} objects over ${RESOURCES.join(', ')} from the local fake Stripe API; worker as its own process on the embedded stack.`,
      '',
      '| run | cap req/s | objects | list requests | s | achieved req/s | of cap | objects/s | ms between requests p10/p50/p90/max | query: objects at 25/50/75 % of the time | load avg start → end |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      line(capped),
      line(unthrottled),
      '',
    ].join('\n'),
  );
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main()
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
