import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { StoreWatch } from './completion';
import { BENCH_SECRET, EventGenerator } from './events';
import { describeLoad, runLoad, round } from './load';
import { prefillStore } from './prefill';
import { CpuMeter, progress, runCleanups, settle, sleep } from './procs';
import { startBenchStack, startHookflow } from './stack';

/**
 * `node dist/bench/growth-probe.js [events=2000] [prefillTo=90000]`: which database operation costs
 * more as the store grows. Runs the production shape (separate receiver and worker, each with the
 * db-command-stats preload), sends `events` mixed events into an empty store, prefills to
 * `prefillTo`, sends the same again, and prints per window the CPU per event by process and every
 * command shape whose time per event changed, plus FerretDB's idle CPU after the prefill (work
 * that runs whether or not events arrive).
 */
type Stats = Record<string, { count: number; totalMs: number; maxMs: number }>;

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 2_000);
  const prefillTo = Number(process.argv[3] ?? 90_000);
  const stack = await startBenchStack('growth-probe');
  const preload = join(__dirname, 'db-command-stats.js');
  const statsFile = (name: 'receiver' | 'worker') => join(stack.dataDir, `${pids[name]}.json`);
  const hookflow = await startHookflow(
    stack,
    { receiver: true, worker: true },
    {
      nodeArgs: { receiver: ['--require', preload], worker: ['--require', preload] },
      env: { HOOKFLOW_DB_STATS_DIR: stack.dataDir },
    },
  );
  const pids = {
    temporal: stack.pids.temporal,
    ferretdb: stack.pids.ferretdb,
    receiver: hookflow.receiver!.pid,
    worker: hookflow.worker!.pid,
  };
  const watch = await StoreWatch.open(stack.mongoUrl, stack.temporalAddress);
  const generator = new EventGenerator(BENCH_SECRET);
  const url = `${hookflow.receiver!.url}/webhooks/stripe`;
  const dump = async (): Promise<Record<string, Stats>> => {
    const result: Record<string, Stats> = {};
    for (const name of ['receiver', 'worker'] as const) {
      rmSync(statsFile(name), { force: true });
      process.kill(pids[name], 'SIGWINCH');
    }
    await sleep(1_000);
    for (const name of ['receiver', 'worker'] as const)
      result[name] = JSON.parse(readFileSync(statsFile(name), 'utf8'));
    return result;
  };
  const windows: Array<{
    label: string;
    perEvent: Record<string, number>;
    rate: number;
    stats: Record<string, Stats>;
  }> = [];
  try {
    const runWindow = async (label: string) => {
      await settle(Object.values(pids), 60_000);
      await dump(); // reset
      const start = await watch.begin();
      const meter = new CpuMeter(pids).start();
      const startedAt = Date.now();
      const load = await runLoad({ url, generator, connections: 20, amount: events });
      progress(`${label}: sent — ${describeLoad(load)}; logs in ${stack.dataDir}/logs`);
      const completion = await watch.waitForOutcomes({
        label,
        expected: load['2xx'],
        start,
        startedAt,
        timeoutMs: 900_000,
      });
      const cpu = meter.stop();
      const done = completion.processed + completion.failed;
      const stats = await dump();
      const perEvent = Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, round(ms / done, 2)]));
      windows.push({ label, perEvent, rate: round(done / completion.seconds), stats });
      progress(`${label}: ${round(done / completion.seconds)} events/s, CPU ms/event ${JSON.stringify(perEvent)}`);
    };
    await runWindow('empty');
    progress(`prefilling to ${prefillTo}`);
    await prefillStore(stack.mongoUrl, prefillTo - events);
    await settle(Object.values(pids), 120_000);
    const idle = new CpuMeter(pids).start();
    await sleep(30_000);
    progress(`idle 30 s at ${prefillTo}: CPU ms ${JSON.stringify(idle.stop())}`);
    await runWindow(`at ${prefillTo}`);
  } finally {
    await watch.close();
    await hookflow.stop();
    await stack.stop();
    await runCleanups();
  }
  const [first, last] = windows;
  const rows: string[] = [];
  for (const process of ['receiver', 'worker'] as const) {
    const keys = new Set([...Object.keys(first!.stats[process]!), ...Object.keys(last!.stats[process]!)]);
    for (const key of keys) {
      const a = first!.stats[process]![key] ?? { count: 0, totalMs: 0, maxMs: 0 };
      const b = last!.stats[process]![key] ?? { count: 0, totalMs: 0, maxMs: 0 };
      rows.push(
        [
          process,
          key,
          round(a.count / events, 2),
          round(b.count / events, 2),
          round(a.totalMs / Math.max(1, a.count), 2),
          round(b.totalMs / Math.max(1, b.count), 2),
          round(a.totalMs / events, 2),
          round(b.totalMs / events, 2),
          round(b.maxMs, 0),
        ].join('\t'),
      );
    }
  }
  rows.sort((x, y) => Number(y.split('\t')[7]) - Number(x.split('\t')[7]));
  process.stdout.write(
    `${JSON.stringify(windows.map(({ stats: _stats, ...rest }) => rest))}\n` +
      'process\tcommand\tper-event(empty)\tper-event(full)\tms/op(empty)\tms/op(full)\tms/event(empty)\tms/event(full)\tmax(full)\n' +
      `${rows.join('\n')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`growth probe failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
