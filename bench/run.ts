import { DefaultLogger, Runtime } from '@temporalio/worker';
import autocannon from 'autocannon';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { loadConfig } from '../src/config';
import { connectDatabase } from '../src/db/connection';
import { createLogger } from '../src/logger';
import { startReceiver } from '../src/processes/receiver';
import { startWorker } from '../src/processes/worker';
import { DEFAULT_TEMPORAL_PRAGMAS, startLocalStack } from '../src/stack/local-stack';
import { freePort } from '../src/stack/ports';
import { signatureHeader, stripeEvent, stripeObject, uniqueId } from '../src/stripe/sample-events';
import { REPO_ROOT } from '../src/version';

/**
 * `npm run bench`: load against the project's own receiver on loopback, on the embedded stack.
 * Measures (1) receiver acceptance — signed unique events through verify + store + workflow start,
 * (2) end-to-end processing until every event is `processed`, (3) process memory — for each
 * Temporal SQLite pragma set. Bounded in count and time; writes bench/reports/latest.{json,md}.
 */
const PRAGMA_SETS: Record<string, string[]> = {
  'rollback-journal (dev-server default)': [],
  'wal + synchronous=normal (hookflow default)': DEFAULT_TEMPORAL_PRAGMAS,
  'wal + synchronous=off': ['journal_mode=wal', 'synchronous=off'],
};
const SECRET = 'whsec_bench_0123456789abcdef';

interface Result {
  pragmas: string;
  events: number;
  connections: number;
  accepted: number;
  non2xx: number;
  acceptRps: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  endToEndSeconds: number;
  processedPerSecond: number;
  failed: number;
  rssMiB: number;
  heapUsedMiB: number;
}

async function runOne(label: string, pragmas: string[], events: number, connections: number): Promise<Result> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-bench-'));
  const stack = await startLocalStack({
    dataDir,
    temporalPort: await freePort(),
    temporalUiPort: null,
    mongoPort: await freePort(),
    temporalSqlitePragmas: pragmas,
  });
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'error',
    MONGO_URL: stack.mongoUrl('hookflow_bench'),
    TEMPORAL_ADDRESS: stack.temporalAddress,
    STRIPE_WEBHOOK_SECRET: SECRET,
  });
  const log = createLogger('error');
  const worker = await startWorker(config, log);
  const receiver = await startReceiver(config, log);
  const db = await connectDatabase(config.mongoUrl);
  try {
    const started = Date.now();
    const load = await autocannon({
      url: `${receiver.url}/webhooks/stripe`,
      connections,
      amount: events,
      timeout: 30,
      requests: [
        {
          method: 'POST',
          setupRequest: (request) => {
            const event = stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
            const body = JSON.stringify(event);
            return {
              ...request,
              body,
              headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(body, SECRET) },
            };
          },
        },
      ],
    });
    const deadline = Date.now() + 10 * 60_000;
    let processed = 0;
    let failed = 0;
    while (Date.now() < deadline) {
      processed = await db.models.StripeEvent.countDocuments({ status: 'processed' });
      failed = await db.models.StripeEvent.countDocuments({ status: 'failed' });
      if (processed + failed >= load.requests.total - load.non2xx) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const endToEndSeconds = (Date.now() - started) / 1000;
    const memory = process.memoryUsage();
    return {
      pragmas: label,
      events,
      connections,
      accepted: load['2xx'],
      non2xx: load.non2xx,
      acceptRps: round(load.requests.average),
      latencyP50Ms: load.latency.p50,
      latencyP99Ms: load.latency.p99,
      endToEndSeconds: round(endToEndSeconds),
      processedPerSecond: round(processed / endToEndSeconds),
      failed,
      rssMiB: round(memory.rss / 2 ** 20),
      heapUsedMiB: round(memory.heapUsed / 2 ** 20),
    };
  } finally {
    await db.close();
    await receiver.close();
    await worker.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

async function main() {
  // Worker chatter (activity logs at INFO) would bury the figures; warnings still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const options = new Command()
    .option('--events <n>', 'signed unique events per run', '500')
    .option('--connections <n>', 'concurrent connections', '10')
    .option('--only <substring>', 'run only pragma sets whose label contains this')
    .parse()
    .opts<{ events: string; connections: string; only?: string }>();
  const results: Result[] = [];
  for (const [label, pragmas] of Object.entries(PRAGMA_SETS)) {
    if (options.only && !label.includes(options.only)) continue;
    process.stdout.write(`bench: ${label} …\n`);
    const result = await runOne(label, pragmas, Number(options.events), Number(options.connections));
    process.stdout.write(`  ${JSON.stringify(result)}\n`);
    results.push(result);
  }
  const reportDir = join(REPO_ROOT, 'bench', 'reports');
  mkdirSync(reportDir, { recursive: true });
  const meta = { at: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length };
  writeFileSync(join(reportDir, 'latest.json'), JSON.stringify({ meta, results }, null, 2) + '\n');
  const rows = results.map(
    (r) =>
      `| ${r.pragmas} | ${r.accepted}/${r.events} | ${r.acceptRps} | ${r.latencyP50Ms} / ${r.latencyP99Ms} | ${r.processedPerSecond} | ${r.endToEndSeconds} | ${r.failed} | ${r.rssMiB} |`,
  );
  writeFileSync(
    join(reportDir, 'latest.md'),
    [
      `# hookflow benchmark — ${meta.at}`,
      '',
      `Node ${meta.node}, ${meta.cpus} cores; receiver, worker, Temporal dev server and FerretDB on one machine (loopback).`,
      `Each run: ${options.events} signed unique \`customer.updated\` events over ${options.connections} connections.`,
      '',
      '| Temporal SQLite pragmas | accepted | accept req/s | latency p50 / p99 ms | processed/s end-to-end | end-to-end s | failed | bench process RSS MiB |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
  process.stdout.write(`bench: report written to bench/reports/latest.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
