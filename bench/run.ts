import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { formatReport } from './format-report';
import {
  CONFIG_VARIABLES,
  DEFAULT_MAX_CACHED_WORKFLOWS,
  DEFAULT_TEMPORAL_PRAGMAS,
  FERRETDB_BIN,
  FERRETDB_SQLITE_PRAGMAS,
  REPO_ROOT,
  TEMPORAL_BIN,
  TEMPORAL_DEV_SERVER_NICE,
} from './hookflow';
import { connectionsForRate } from './load';
import { ackPhase, burstPhase, ceilingAndE2ePhase, growthPhase, type Peaks } from './phases';
import { FULL_PLAN, PHASES, QUICK_PLAN, type Phase, type Plan } from './plan';
import { progress, runCleanups } from './procs';
import {
  NAMESPACE_RETENTION_DAYS,
  NUM_HISTORY_SHARDS,
  POSTGRES_MAJOR,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SERVER_VERSION,
} from '../src/stack/prod-settings';
import { renderMarkdown, type BenchReport } from './report';
import {
  BENCH_STACK_KINDS,
  DATABASE,
  TASK_QUEUE,
  heapCapsDescription,
  useBenchStack,
  useHeapCaps,
  useHookflowEnv,
  workerNonStickyPollRatio,
  type BenchStackKind,
} from './stack';

/**
 * `npm run bench` — what hookflow does on this machine, in one run, on the production shape: the
 * embedded stack (Temporal dev server + FerretDB), receiver and worker as separate processes.
 * Reports what it saw and asserts nothing. Writes bench/results/<timestamp>.{json,md} and
 * bench/results/latest.{json,md}.
 *
 *   npm run bench                       # full run, ~30–40 min on 2 cores
 *   npm run bench -- --quick            # small numbers, a few minutes: checks the harness
 *   npm run bench -- --only ack,burst   # some phases: ack, ceiling, e2e, growth, burst
 *   npm run bench -- --stack prod       # temporal-server on PostgreSQL (npm run stack:prod's shape); default embedded
 *   npm run bench -- --node-defaults    # hookflow without the production image's heap caps (node-options.ts)
 *   npm run bench -- --hookflow-env WORKER_ACTIVITY_SLOTS=100   # a hookflow setting for every process (repeatable)
 *
 * Phase groups, each on a fresh stack: ack (Stripe docs handler baseline, then hookflow's receiver
 * at fixed concurrency and fixed arrival rates); ceiling + e2e (trivial-workflow ceiling, then
 * mixed events end to end); growth (end-to-end rate and store latency at 0–10k vs 90–100k stored
 * events); burst (10,000 events at 1,000/s, until all processed). Progress goes to stderr.
 */

interface Options {
  quick?: boolean;
  only?: string;
  stack: string;
  out: string;
  nodeDefaults?: boolean;
  hookflowEnv: string[];
}

async function main(): Promise<void> {
  const options = new Command()
    .name('bench')
    .option('--quick', 'small numbers: a few minutes, for checking the harness')
    .option('--only <phases>', `comma-separated phases to run (${PHASES.join(', ')})`)
    .option('--stack <name>', `stack to run on: ${BENCH_STACK_KINDS.join(' or ')}`, 'embedded')
    .option('--node-defaults', "run hookflow with Node's default heap limits, not the production image's caps")
    .option(
      '--hookflow-env <KEY=VALUE>',
      'a hookflow setting for every receiver and worker (repeatable); recorded in the report',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      '--out <dir>',
      'directory for the reports (a trial run elsewhere leaves bench/results alone)',
      'bench/results',
    )
    .parse()
    .opts<Options>();
  if (!(BENCH_STACK_KINDS as readonly string[]).includes(options.stack)) {
    throw new Error(`unknown --stack ${options.stack}: use ${BENCH_STACK_KINDS.join(' or ')}`);
  }
  useBenchStack(options.stack as BenchStackKind);
  useHeapCaps(options.nodeDefaults ? 'node-defaults' : 'production');
  const settings = hookflowSettings(options.hookflowEnv);
  useHookflowEnv(settings);
  const phases = selectPhases(options.only);
  const plan = options.quick ? QUICK_PLAN : FULL_PLAN;
  const at = new Date();

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress(`${signal}: stopping every child process`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  progress(`phases: ${phases.join(', ')}${plan.quick ? ' (quick)' : ''}; stack: ${options.stack}`);
  const report: BenchReport = {
    at: at.toISOString(),
    stack: options.stack,
    quick: plan.quick,
    phases,
    git: gitState(),
    machine: machine(),
    tunings: { ...tunings(plan, options.stack as BenchStackKind), hookflow_env_added: settings },
    ack: null,
    temporal: null,
    e2e: null,
    growth: null,
    burst: null,
    rss_mib: { worker: null, receiver: null, temporal: null, ferretdb: null, by_group: {} },
    cpu_ms_per_event: null,
    phase_seconds: {},
    errors: {},
  };

  const timed = async (name: string, body: () => Promise<void>) => {
    const began = Date.now();
    try {
      await body();
    } catch (error) {
      report.errors[name] = error instanceof Error ? (error.stack ?? error.message) : String(error);
      progress(`${name} FAILED: ${report.errors[name]}`);
    } finally {
      report.phase_seconds[name] = Math.round((Date.now() - began) / 1000);
      progress(`${name}: ${report.phase_seconds[name]} s`);
    }
  };
  const keepPeaks = (group: string, peaks: Peaks) => (report.rss_mib.by_group[group] = peaks);

  if (phases.includes('ack')) {
    await timed('ack', async () => {
      const ack = await ackPhase(plan);
      keepPeaks('ack', { ...ack.peaks, baseline: ack.baseline.rss_mib });
      const headline = ack.rates.find((step) => step.offered_rate === plan.ack.headlineRate) ?? null;
      report.ack = {
        baseline_rps: ack.baseline.concurrency.ok_rps,
        headline_rate: plan.ack.headlineRate,
        rps: headline?.ok_rps ?? null,
        p50_ms: headline?.p50_ms ?? null,
        p99_ms: headline?.p99_ms ?? null,
        max_ms: headline?.max_ms ?? null,
        non2xx: headline ? headline.non2xx + headline.errors : null,
        baseline: ack.baseline,
        concurrency: ack.concurrency,
        rates: ack.rates,
      };
    });
  }
  if (phases.includes('ceiling') || phases.includes('e2e')) {
    await timed('ceiling+e2e', async () => {
      const { ceiling, e2e, peaks } = await ceilingAndE2ePhase(plan, {
        ceiling: phases.includes('ceiling'),
        e2e: phases.includes('e2e'),
      });
      keepPeaks('ceiling+e2e', peaks);
      if (ceiling) report.temporal = { ceiling_wps: ceiling.ceiling_wps, ceiling };
      if (e2e) {
        report.e2e = {
          events: e2e.events,
          mix: e2e.mix,
          load: e2e.load,
          completion: e2e.completion,
          events_per_s: e2e.events_per_s,
          ratio_to_ceiling: ceiling ? Math.round((e2e.events_per_s / ceiling.ceiling_wps) * 1000) / 1000 : null,
          cpu_ms_per_event: e2e.cpu_ms_per_event,
          cores_busy: e2e.cores_busy,
          other_cores: e2e.other_cores,
        };
        report.cpu_ms_per_event = e2e.cpu_ms_per_event;
      }
    });
  }
  if (phases.includes('growth')) {
    await timed('growth', async () => {
      const { peaks, ...growth } = await growthPhase(plan);
      keepPeaks('growth', peaks);
      report.growth = growth;
    });
  }
  if (phases.includes('burst')) {
    await timed('burst', async () => {
      const { peaks, ...burst } = await burstPhase(plan);
      keepPeaks('burst', peaks);
      report.burst = burst;
    });
  }

  const peakOf = (name: string) => {
    const values = Object.values(report.rss_mib.by_group)
      .map((peaks) => peaks[name])
      .filter((value): value is number => value !== undefined);
    return values.length > 0 ? Math.max(...values) : null;
  };
  report.rss_mib.worker = peakOf('worker');
  report.rss_mib.receiver = peakOf('receiver');
  report.rss_mib.temporal = peakOf('temporal');
  report.rss_mib.ferretdb = peakOf('ferretdb');

  await writeReport(report, at, options.out);
  await runCleanups();
  if (Object.keys(report.errors).length > 0) process.exitCode = 1;
}

function selectPhases(only: string | undefined): Phase[] {
  if (!only) return [...PHASES];
  const wanted = only
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = wanted.filter((name) => !PHASES.includes(name as Phase));
  if (unknown.length > 0) throw new Error(`unknown phase(s) ${unknown.join(', ')}; phases: ${PHASES.join(', ')}`);
  return PHASES.filter((phase) => wanted.includes(phase));
}

async function writeReport(report: BenchReport, at: Date, out: string): Promise<void> {
  const dir = resolve(REPO_ROOT, out);
  mkdirSync(dir, { recursive: true });
  // ISO 8601 basic format: a timestamp that is also a portable file name.
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  // Formatted as prettier would: `npm test` runs `prettier --check .` over the repository.
  const json = await formatReport(JSON.stringify(report, null, 2), join(dir, 'latest.json'));
  const markdown = await formatReport(renderMarkdown(report), join(dir, 'latest.md'));
  for (const name of [stamp, 'latest']) {
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(dir, `${name}.md`), markdown);
  }
  progress(`report: ${join(dir, stamp)}.md (and latest.md, .json)`);
  process.stdout.write(markdown.split('## Errors')[0]!.split('## Acknowledgement')[0]!);
}

function gitState(): { commit: string; dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

function machine(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpu_model: cpuList[0]?.model ?? 'unknown',
    memory_mib: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    kernel: release(),
  };
}

function versionOf(binary: string): string {
  try {
    return execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim().split('\n').join('; ');
  } catch {
    return 'unknown';
  }
}

/** `KEY=VALUE` pairs of --hookflow-env, checked against the variables hookflow reads. */
function hookflowSettings(pairs: string[]): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const pair of pairs) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new Error(`--hookflow-env ${pair}: expected KEY=VALUE`);
    if (!CONFIG_VARIABLES.includes(match[1]!)) throw new Error(`--hookflow-env ${match[1]}: not a hookflow setting`);
    settings[match[1]!] = match[2]!;
  }
  return settings;
}

/** Every setting the run applied, and the defaults it deliberately left alone. */
function tunings(plan: Plan, stack: BenchStackKind): Record<string, unknown> {
  const stampFile = join(REPO_ROOT, '.tools', 'bin', '.ferretdb-stamp');
  const ferretStamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : null;
  const prodTemporal = {
    server: `temporal-server ${TEMPORAL_SERVER_VERSION} (go.temporal.io/server, all services in one process)`,
    persistence: `PostgreSQL ${POSTGRES_MAJOR} (own cluster, loopback), SQL visibility`,
    history_shards: NUM_HISTORY_SHARDS,
    dynamic_config: TEMPORAL_DYNAMIC_CONFIG,
    namespace_retention_days: NAMESPACE_RETENTION_DAYS,
    not_measured: "PostgreSQL's CPU and memory (its backends count as other processes)",
  };
  return {
    temporal:
      stack === 'prod'
        ? prodTemporal
        : {
            version: versionOf(TEMPORAL_BIN),
            sqlite_pragmas: DEFAULT_TEMPORAL_PRAGMAS,
            cpu_priority: `nice -n ${TEMPORAL_DEV_SERVER_NICE} (receiver, worker and FerretDB at 0): acknowledgements first`,
            flags:
              '--ip 127.0.0.1 --headless --log-level warn --db-filename <data dir>/temporal.db, one --search-attribute per hookflow attribute',
            dynamic_config: ['frontend.enableServerVersionCheck=false'],
            env: { TEMPORAL_VERSION_CHECK_DISABLED: '1' },
            not_changed: 'task-queue partitions (default 4), history shards (dev server: 1), no other dynamic config',
          },
    ferretdb: {
      version: versionOf(FERRETDB_BIN),
      build:
        ferretStamp === null
          ? 'no build stamp: built by an older bootstrap (v1.24.2 from module source, version.txt written; no source patch)'
          : `${ferretStamp} — built by scripts/bootstrap.sh from the v1.24.2 module source${ferretStamp.includes('+') ? " with its source patches (the `_id` filter spelled like the unique index expression, so lookups by _id use the index; find pushdown on `__pushdown` indexes; memcmp/memcpy of its SQLite on Go's assembly routines; writes to a database queued on a Go mutex instead of SQLite's sleeping busy handler — scripts/bootstrap.sh)" : ''}`,
      flags: `--handler=sqlite --sqlite-url=file:<data dir>/ferretdb/?${FERRETDB_SQLITE_PRAGMAS.map((pragma) => `_pragma=${pragma}`).join('&')} --listen-addr=127.0.0.1:<port> --debug-addr=- --telemetry=disable --log-level=warn`,
      env: { DO_NOT_TRACK: '1', FERRETDB_TELEMETRY: 'disable' },
    },
    hookflow_env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '<free port>',
      LOG_LEVEL: 'warn',
      MONGO_URL: `mongodb://127.0.0.1:<port>/${DATABASE}`,
      TEMPORAL_ADDRESS: '127.0.0.1:<port>',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      STRIPE_WEBHOOK_SECRET: '<benchmark secret>',
      passed_through: 'PATH, HOME, TMPDIR, LANG, TZ when set; nothing else',
      defaults_left:
        'WORKFLOW_START_WAIT_MS=2000, RECONCILE_AFTER_SECONDS=30, RECONCILE_INTERVAL_SECONDS=15, no Clerk key, no outbound endpoints',
    },
    processes: {
      receiver: 'node dist/src/cli/main.js serve',
      worker: `node dist/src/cli/main.js worker (the workflow bundle the bootstrap prebuilt, else bundled at start; activity slots sized to the heap, src/worker/activity-slots.ts; workflow cache ${DEFAULT_MAX_CACHED_WORKFLOWS}; workflow-task poller ratio ${workerNonStickyPollRatio()} of 10 on the task queue, the rest sticky — the ceiling's worker uses the same)`,
      NODE_OPTIONS: heapCapsDescription(),
    },
    load_generator: {
      tool: `closed model: autocannon ${packageVersion('autocannon')}; fixed arrival rates: bench/open-load.ts on undici ${packageVersion('undici')} (sends on schedule, events signed before the clock starts); both in the benchmark process`,
      requests:
        'POST /webhooks/stripe, a fresh signed event per request (pretty-printed like Stripe, Stripe-Signature t=…,v1=…)',
      timeout_s: 30,
      open_model_connections: `max(10, min(500, rate/4)): ${[250, 500, 1000, 2000].map((rate) => `${rate}/s → ${connectionsForRate(rate)}`).join(', ')}`,
      latency:
        'closed model: raw 2xx response times; open model: from each request’s scheduled send time to its answer',
      warm_up: `${plan.warmUpS} s at 50 connections before a server's first measured step (not counted)`,
    },
    plan,
  };
}

function packageVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
}

main().catch(async (error: unknown) => {
  progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await runCleanups();
  process.exit(1);
});
