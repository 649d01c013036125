import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, signatureHeader, stripeEvent, stripeObject, uniqueId } from './hookflow';
import { BENCH_SECRET } from './events';
import { MemorySampler, progress, runCleanups } from './procs';
import { startBenchStack, startHookflow } from './stack';

/**
 * `node dist/bench/storm-probe.js [--heap 160] [--body-kib 900] [--concurrency 200] [--total 600]`:
 * a storm of large signed deliveries against `hookflow serve` under a heap limit, on a fresh
 * embedded stack, twice — with the receiver's body budget at its default and with the budget
 * lifted (WEBHOOK_INFLIGHT_BYTES=1e12, as before it existed). Reports the answers by status, whether
 * the receiver survived, and its peak RSS; writes bench/results/storm-<timestamp>.{json,md}.
 * Not part of `npm run bench`; asserts nothing.
 */
interface StormResult {
  budget: string;
  seconds: number;
  answers: Record<string, number>;
  receiver_exit: string | null;
  peak_rss_mib: number | null;
}

async function main(): Promise<void> {
  const options = new Command()
    .option('--heap <mib>', 'the receiver’s --max-old-space-size', '160')
    .option('--body-kib <kib>', 'size of each delivery', '900')
    .option('--concurrency <n>', 'deliveries in flight from the load generator', '200')
    .option('--total <n>', 'deliveries per run', '600')
    .parse()
    .opts<{ heap: string; bodyKib: string; concurrency: string; total: string }>();
  const settings = {
    heap_mib: Number(options.heap),
    body_kib: Number(options.bodyKib),
    concurrency: Number(options.concurrency),
    total: Number(options.total),
  };
  const runs: StormResult[] = [];
  for (const budget of ['default (16 MiB)', 'lifted (1e12)']) {
    progress(`storm: ${settings.total} deliveries of ${settings.body_kib} KiB, budget ${budget}`);
    runs.push(
      await storm(settings, budget.startsWith('lifted') ? { WEBHOOK_INFLIGHT_BYTES: '1000000000000' } : {}, budget),
    );
  }
  const at = new Date().toISOString();
  const report = {
    at,
    settings,
    machine_note: 'other work may have been running; RSS and survival are the figures',
    runs,
  };
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const name = `storm-${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, `${name}.md`), markdown(report));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

async function storm(
  settings: { heap_mib: number; body_kib: number; concurrency: number; total: number },
  env: Record<string, string>,
  budget: string,
): Promise<StormResult> {
  const stack = await startBenchStack('storm');
  try {
    const hookflow = await startHookflow(
      stack,
      { receiver: true, worker: false },
      { nodeArgs: { receiver: [`--max-old-space-size=${settings.heap_mib}`, '--max-semi-space-size=4'] }, env },
    );
    const receiver = hookflow.receiver!;
    let exit: string | null = null;
    void receiver.exited.then(
      (code) => (exit = receiver.child.signalCode ? `killed by ${receiver.child.signalCode}` : `exit ${code}`),
    );
    const memory = new MemorySampler(100);
    memory.track('receiver', receiver.pid);
    memory.start();
    const filler = 'x'.repeat(settings.body_kib * 1024);
    const answers: Record<string, number> = {};
    const count = (key: string) => (answers[key] = (answers[key] ?? 0) + 1);
    let sent = 0;
    const began = Date.now();
    const lane = async () => {
      while (sent < settings.total) {
        sent++;
        const body = JSON.stringify(
          stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus'), description: filler })),
        );
        try {
          const response = await fetch(`${receiver.url}/webhooks/stripe`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(body, BENCH_SECRET) },
          });
          await response.arrayBuffer();
          count(String(response.status));
        } catch (error) {
          count(String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message));
        }
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, lane));
    const seconds = (Date.now() - began) / 1000;
    const peaks = memory.stop();
    // Read before stopping: the stop's own SIGTERM ends the process too.
    const exitDuringStorm = exit ?? (receiver.child.signalCode ? `signal ${receiver.child.signalCode}` : null);
    await hookflow.stop();
    return { budget, seconds, answers, receiver_exit: exitDuringStorm, peak_rss_mib: peaks.receiver ?? null };
  } finally {
    await stack.stop();
  }
}

function markdown(report: { at: string; settings: Record<string, number>; runs: StormResult[] }): string {
  const { heap_mib, body_kib, concurrency, total } = report.settings;
  const lines = [
    `# Large-body storm ${report.at}`,
    '',
    `${total} signed deliveries of ${body_kib} KiB, ${concurrency} at a time, against \`hookflow serve\` with \`--max-old-space-size=${heap_mib} --max-semi-space-size=4\` on the embedded stack (\`node dist/bench/storm-probe.js\`).`,
    '',
    '| body budget | answers | receiver | peak RSS MiB | s |',
    '| ----------- | ------- | -------- | ------------ | - |',
    ...report.runs.map(
      (run) =>
        `| ${run.budget} | ${Object.entries(run.answers)
          .map(([status, n]) => `${status}: ${n}`)
          .join(', ')} | ${run.receiver_exit ?? 'survived'} | ${run.peak_rss_mib ?? '—'} | ${run.seconds} |`,
    ),
    '',
    'Connection errors (`UND_ERR_SOCKET`, `ECONNRESET`) beside `429` are deliveries the receiver refused before reading them while the load generator was still sending the body: to Stripe, as a `429`, a failed delivery it retries. After a crash (`killed by SIGABRT`: V8 out of heap) every later delivery is refused at connect.',
    '',
  ];
  return lines.join('\n');
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `storm probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => runCleanups());
