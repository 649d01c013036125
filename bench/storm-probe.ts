import { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreWatch } from './completion';
import { formatReport } from './format-report';
import { REPO_ROOT, signatureHeader, stripeEvent, stripeObject, uniqueId } from './hookflow';
import { BENCH_SECRET } from './events';
import { MemorySampler, progress, runCleanups, sleep, type BenchChild } from './procs';
import { heapCapsDescription, startBenchStack, startHookflow } from './stack';

/**
 * A storm of large signed deliveries (`--body-kib`, default 900 KiB) on a fresh embedded stack per
 * run, each process under the production image's heap cap (src/processes/node-options.ts). Not part
 * of `npm run bench`; asserts nothing; writes bench/results/storm-<timestamp>.{json,md}.
 *
 * `node dist/bench/storm-probe.js [--target receiver]`: `hookflow serve` alone, with its body
 * budget at its default and lifted (WEBHOOK_INFLIGHT_BYTES=1e12, as before it existed): answers by
 * status, whether the receiver survived, its peak RSS.
 *
 * `node dist/bench/storm-probe.js --target worker`: the receiver stores every delivery (each retried
 * until acknowledged, as Stripe retries a 429), then a worker starts on the backlog — with its
 * activity slots sized to its heap (the default) and at the SDK's 100 (WORKER_ACTIVITY_SLOTS=100,
 * as before the bound): events processed, whether the worker survived, its peak RSS.
 */
interface Settings {
  target: 'receiver' | 'worker';
  body_kib: number;
  concurrency: number;
  total: number;
}

interface StormResult {
  run: string;
  seconds: number;
  answers: Record<string, number>;
  /** Worker target: events acknowledged and then processed / failed in the store. */
  acknowledged?: number;
  processed?: number;
  failed?: number;
  exit: string | null;
  peak_rss_mib: number | null;
}

const RUNS = {
  receiver: [
    { run: 'body budget default (16 MiB)', env: {} },
    { run: 'body budget lifted (1e12)', env: { WEBHOOK_INFLIGHT_BYTES: '1000000000000' } },
  ],
  worker: [
    { run: 'activity slots from the heap (default)', env: {} },
    { run: 'activity slots 100 (the SDK default)', env: { WORKER_ACTIVITY_SLOTS: '100' } },
  ],
} as const;

async function main(): Promise<void> {
  const options = new Command()
    .option('--target <process>', 'receiver (serve alone) or worker (serve + worker, until processed)', 'receiver')
    .option('--body-kib <kib>', 'size of each delivery', '900')
    .option('--concurrency <n>', 'deliveries in flight from the load generator', '200')
    .option('--total <n>', 'deliveries per run', '600')
    .parse()
    .opts<{ target: string; bodyKib: string; concurrency: string; total: string }>();
  if (options.target !== 'receiver' && options.target !== 'worker') {
    throw new Error(`unknown --target ${options.target}: use receiver or worker`);
  }
  const settings: Settings = {
    target: options.target,
    body_kib: Number(options.bodyKib),
    concurrency: Number(options.concurrency),
    total: Number(options.total),
  };
  const runs: StormResult[] = [];
  for (const { run, env } of RUNS[settings.target]) {
    progress(`storm: ${settings.total} deliveries of ${settings.body_kib} KiB, ${run}`);
    runs.push(await storm(settings, env, run));
    progress(`storm: ${JSON.stringify(runs.at(-1))}`);
  }
  const at = new Date().toISOString();
  const report = {
    at,
    settings,
    // What startHookflow gave the processes (heap caps and arena count), as the harness records it.
    node_options: heapCapsDescription(),
    machine_note: 'other work may have been running; RSS and survival are the figures',
    runs,
  };
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const name = `storm-${settings.target === 'worker' ? 'worker-' : ''}${at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
  for (const [file, text] of [
    [`${name}.json`, JSON.stringify(report, null, 2)],
    [`${name}.md`, markdown(report)],
  ] as const) {
    writeFileSync(join(dir, file), await formatReport(text, join(dir, file)));
  }
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

/** How a child ended, read without waiting ("null" while it runs). */
function exitOf(child: BenchChild): () => string | null {
  let exit: string | null = null;
  void child.exited.then(
    (code) => (exit = child.child.signalCode ? `killed by ${child.child.signalCode}` : `exit ${code}`),
  );
  return () => exit;
}

async function storm(settings: Settings, env: Record<string, string>, run: string): Promise<StormResult> {
  const stack = await startBenchStack('storm');
  try {
    const withWorker = settings.target === 'worker';
    const hookflow = await startHookflow(stack, { receiver: true, worker: false }, { env });
    const receiver = hookflow.receiver!;
    const memory = new MemorySampler(100);
    let exit = exitOf(receiver);
    if (!withWorker) {
      memory.track('receiver', receiver.pid);
      memory.start();
    }
    const watch = withWorker ? await StoreWatch.open(stack.mongoUrl, stack.temporalAddress) : null;
    const start = await watch?.begin();
    const filler = 'x'.repeat(settings.body_kib * 1024);
    const answers: Record<string, number> = {};
    const count = (key: string) => (answers[key] = (answers[key] ?? 0) + 1);
    let sent = 0;
    let acknowledged = 0;
    const began = Date.now();
    const deliver = async (body: string): Promise<boolean> => {
      try {
        const response = await fetch(`${receiver.url}/webhooks/stripe`, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(body, BENCH_SECRET) },
        });
        await response.arrayBuffer();
        count(String(response.status));
        return response.ok;
      } catch (error) {
        count(String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message));
        return false;
      }
    };
    const lane = async () => {
      while (sent < settings.total) {
        sent++;
        const body = JSON.stringify(
          stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus'), description: filler })),
        );
        // The worker target needs every event stored: retry a refused delivery, as Stripe would.
        for (let attempt = 0; ; attempt++) {
          if (await deliver(body)) {
            acknowledged++;
            break;
          }
          if (!withWorker || attempt >= 60) break;
          await sleep(1_000);
        }
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, lane));
    const outcome = { processed: 0, failed: 0 };
    let workerProcesses: Awaited<ReturnType<typeof startHookflow>> | null = null;
    if (watch && start) {
      // The worker starts on the whole backlog (every event stored, its workflow waiting): as many
      // large events at once as it will take, which is what its activity slots bound.
      progress(`storm: ${acknowledged} events stored; starting the worker on the backlog`);
      workerProcesses = await startHookflow(stack, { receiver: false, worker: true }, { env });
      const worker = workerProcesses.worker!;
      exit = exitOf(worker);
      memory.track('worker', worker.pid);
      memory.start();
      // Until every acknowledged event has its outcome, the worker dies, or 15 minutes pass.
      const deadline = Date.now() + 15 * 60_000;
      while (Date.now() < deadline && exit() === null) {
        if ((await watch.closedWorkflows()) - start.closedWorkflows >= acknowledged) {
          Object.assign(outcome, await watch.outcomesSince(start.since));
          if (outcome.processed + outcome.failed >= acknowledged) break;
        }
        await sleep(2_000);
      }
      Object.assign(outcome, await watch.outcomesSince(start.since));
      await watch.close();
    }
    const seconds = (Date.now() - began) / 1000;
    const peaks = memory.stop();
    // Read before stopping: the stop's own SIGTERM ends the process too.
    const exitDuringStorm = exit();
    await workerProcesses?.stop();
    await hookflow.stop();
    return {
      run,
      seconds,
      answers,
      ...(withWorker ? { acknowledged, ...outcome } : {}),
      exit: exitDuringStorm,
      peak_rss_mib: peaks[settings.target] ?? null,
    };
  } finally {
    await stack.stop();
  }
}

function markdown(report: {
  at: string;
  settings: Settings;
  node_options: Record<string, string>;
  runs: StormResult[];
}): string {
  const { target, body_kib, concurrency, total } = report.settings;
  const worker = target === 'worker';
  const lines = [
    `# Large-body storm (${target}) ${report.at}`,
    '',
    `${total} signed deliveries of ${body_kib} KiB, ${concurrency} at a time, against ${worker ? '`hookflow serve` and `hookflow worker`' : '`hookflow serve`'} with the production image's memory settings (receiver \`${report.node_options.receiver}\`, worker \`${report.node_options.worker}\`) on the embedded stack (\`node dist/bench/storm-probe.js --target ${target}\`).${worker ? ' Refused deliveries are retried every second until acknowledged, as Stripe retries them; the worker starts once all are stored, on the whole backlog. Peak RSS is the worker’s.' : ''}`,
    '',
    `| run | answers | ${worker ? 'acknowledged | processed | failed | ' : ''}${target} | peak RSS MiB | s |`,
    `| --- | ------- | ${worker ? '------------ | --------- | ------ | ' : ''}${'-'.repeat(target.length)} | ------------ | - |`,
    ...report.runs.map(
      (run) =>
        `| ${run.run} | ${Object.entries(run.answers)
          .map(([status, n]) => `${status}: ${n}`)
          .join(
            ', ',
          )} | ${worker ? `${run.acknowledged} | ${run.processed} | ${run.failed} | ` : ''}${run.exit ?? 'survived'} | ${run.peak_rss_mib ?? '—'} | ${run.seconds} |`,
    ),
    '',
    'Connection errors (`UND_ERR_SOCKET`, `ECONNRESET`) beside `429` are deliveries the receiver refused before reading them while the load generator was still sending the body: to Stripe, as a `429`, a failed delivery it retries. `killed by SIGABRT` is V8 out of heap.',
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
