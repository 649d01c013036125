import { Connection } from '@temporalio/client';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NONSTICKY_POLL_RATIO, DEFAULT_WORKFLOW_START_CONCURRENCY } from '../src/config';
import { freeProdPorts, startProdInfra, type ProdInfra } from '../src/stack/prod-stack';
import { BENCH_SECRET } from './events';
import {
  FERRETDB_BIN,
  PRODUCTION_MALLOC_ARENA_MAX,
  PRODUCTION_NODE_OPTIONS,
  productionProcessEnv,
  REPO_ROOT,
  TEMPORAL_BIN,
  freePort,
  startLocalStack,
  type LocalStack,
} from './hookflow';
import { childrenMentioning, onCleanup, progress, sleep, spawnChild, trackPid, type BenchChild } from './procs';

/**
 * A fresh embedded stack per phase group (Temporal dev server + FerretDB in a new temporary data
 * directory, on free loopback ports: `startLocalStack`, as `npm run dev` and the tests use it), and
 * hookflow's two production processes on top of it — `node dist/src/cli/main.js serve` and
 * `… worker` — configured by environment variables only.
 */

export const DATABASE = 'hookflow_bench';
export const TASK_QUEUE = 'hookflow';
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface BenchStack {
  label: string;
  dataDir: string;
  mongoUrl: string;
  temporalAddress: string;
  pids: { temporal: number; ferretdb: number };
  stop(): Promise<void>;
}

/**
 * Which stack every phase group starts: `embedded` (the Temporal dev server, as `npm run dev`) or
 * `prod` (temporal-server on PostgreSQL with SQL visibility, as `npm run stack:prod`; installed by
 * scripts/bootstrap-prod.sh). Chosen once by `--stack` and written into the report.
 */
export type BenchStackKind = 'embedded' | 'prod';
export const BENCH_STACK_KINDS: readonly BenchStackKind[] = ['embedded', 'prod'];
let stackKind: BenchStackKind = 'embedded';
export function useBenchStack(kind: BenchStackKind): void {
  stackKind = kind;
}
/** What startBenchStack starts, in words for progress lines. */
export function benchStackDescription(): string {
  return stackKind === 'prod'
    ? 'production-shape stack (temporal-server on PostgreSQL + FerretDB)'
    : 'embedded stack (Temporal dev server + FerretDB)';
}

export async function startBenchStack(label: string): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `hookflow-bench-${label}-`));
  if (stackKind === 'prod') return startProdBenchStack(label, dataDir);
  const stack = await startWithRetries(label, dataDir, async () =>
    startLocalStack({ dataDir, temporalPort: await freePort(), temporalUiPort: null, mongoPort: await freePort() }),
  );
  // startLocalStack does not expose its processes: they are this process's children whose
  // command line names the data directory.
  const children = childrenMentioning(dataDir);
  const pidOf = (bin: string) => children.find((child) => child.cmdline.startsWith(bin))?.pid;
  return benchStackOf(label, dataDir, stack, {
    temporal: pidOf(TEMPORAL_BIN),
    ferretdb: pidOf(FERRETDB_BIN),
    missing: `could not find the stack's processes under /proc (found: ${JSON.stringify(children)})`,
  });
}

/**
 * The production shape: its infrastructure processes are this process's children, known by name.
 * The CPU and memory figures cover temporal-server and FerretDB as on the embedded stack;
 * PostgreSQL's backends are separate processes and count as "other processes" in the report.
 */
async function startProdBenchStack(label: string, dataDir: string): Promise<BenchStack> {
  const infra: ProdInfra = await startWithRetries(label, dataDir, async () =>
    startProdInfra({ dataDir, ports: await freeProdPorts() }),
  );
  const pidOf = (name: string) => infra.processes.find((process) => process.name === name)?.child.pid;
  return benchStackOf(label, dataDir, infra, {
    temporal: pidOf('temporal-server'),
    ferretdb: pidOf('ferretdb'),
    missing: 'the production-shape stack started without a temporal-server or FerretDB process',
  });
}

/** A port found free may be taken before the server binds it: tries with fresh ports twice more. */
async function startWithRetries<T>(label: string, dataDir: string, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3) {
        rmSync(dataDir, { recursive: true, force: true });
        throw error;
      }
      progress(`stack ${label} did not start (${(error as Error).message.split('\n')[0]}); retrying`);
    }
  }
}

/** The started infrastructure as a BenchStack whose stop() also forgets its pids and data. */
async function benchStackOf(
  label: string,
  dataDir: string,
  running: Pick<LocalStack, 'stop' | 'mongoUrl' | 'temporalAddress'>,
  found: { temporal: number | undefined; ferretdb: number | undefined; missing: string },
): Promise<BenchStack> {
  const { temporal, ferretdb } = found;
  if (!temporal || !ferretdb) {
    await running.stop();
    throw new Error(found.missing);
  }
  const untrack = [trackPid(temporal), trackPid(ferretdb)];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    await running.stop();
    untrack.forEach((fn) => fn());
    rmSync(dataDir, { recursive: true, force: true });
  };
  const unregister = onCleanup(stop);
  return {
    label,
    dataDir,
    mongoUrl: running.mongoUrl(DATABASE),
    temporalAddress: running.temporalAddress,
    pids: { temporal, ferretdb },
    stop,
  };
}

/** Variables the receiver and the worker get; nothing else of the benchmark's environment leaks in. */
export function hookflowEnv(stack: BenchStack, port: number): Record<string, string> {
  return {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    MONGO_URL: stack.mongoUrl,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    STRIPE_WEBHOOK_SECRET: BENCH_SECRET,
  };
}

function processEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const passThrough = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  return {
    ...Object.fromEntries(passThrough.filter((key) => process.env[key]).map((key) => [key, process.env[key]])),
    ...extra,
  };
}

export interface HookflowProcesses {
  receiver: (BenchChild & { url: string }) | null;
  worker: BenchChild | null;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface HookflowProcessOptions {
  /** Node flags before the script (e.g. a heap limit), per process. */
  nodeArgs?: { receiver?: string[]; worker?: string[] };
  /** hookflow settings beyond hookflowEnv's (e.g. WEBHOOK_INFLIGHT_BYTES). */
  env?: Record<string, string>;
}

/**
 * The heap settings hookflow's processes get: the production image's caps
 * (src/processes/node-options.ts) unless `--node-defaults` chose Node's own limits.
 */
let heapCaps: 'production' | 'node-defaults' = 'production';
export function useHeapCaps(choice: 'production' | 'node-defaults'): void {
  heapCaps = choice;
}
/** NODE_OPTIONS (and MALLOC_ARENA_MAX) per process, as the report's tunings record them. */
export function heapCapsDescription(): Record<string, string> {
  const nodeDefaults = "Node's and glibc's defaults (--node-defaults)";
  if (heapCaps !== 'production') return { receiver: nodeDefaults, worker: nodeDefaults };
  const describe = (role: 'receiver' | 'worker') =>
    `${PRODUCTION_NODE_OPTIONS[role]}, MALLOC_ARENA_MAX=${PRODUCTION_MALLOC_ARENA_MAX}`;
  return { receiver: describe('receiver'), worker: describe('worker') };
}

/** hookflow settings the run was given (`--hookflow-env KEY=VALUE`), for every process it starts. */
const runEnv: Record<string, string> = {};
export function useHookflowEnv(settings: Record<string, string>): void {
  Object.assign(runEnv, settings);
}

/**
 * The workflow-task poller ratio hookflow's worker runs with in this run: the ceiling's worker gets
 * the same, so the reference is not held back by a poller setting hookflow does not have.
 */
export function workerNonStickyPollRatio(): number {
  return Number(runEnv.WORKER_NONSTICKY_POLL_RATIO ?? DEFAULT_NONSTICKY_POLL_RATIO);
}

/** The receiver's workflow starts in flight in this run: the ceiling starts its workflows the same way. */
export function workflowStartConcurrency(): number {
  return Number(runEnv.WORKFLOW_START_CONCURRENCY ?? DEFAULT_WORKFLOW_START_CONCURRENCY);
}

export async function startHookflow(
  stack: BenchStack,
  parts: { receiver: boolean; worker: boolean },
  options: HookflowProcessOptions = {},
): Promise<HookflowProcesses> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx tsc -p tsconfig.json)`);
  const port = await freePort();
  const env = { ...hookflowEnv(stack, port), ...runEnv, ...options.env };
  const logs = join(stack.dataDir, 'logs');
  // HOOKFLOW_BENCH_CPU_PROF_DIR=<dir>: V8 CPU profiles of receiver and worker, written when they stop.
  const profileDir = process.env.HOOKFLOW_BENCH_CPU_PROF_DIR;
  const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const spawnHookflow = (name: 'receiver' | 'worker', command: string) =>
    spawnChild(
      name,
      process.execPath,
      [...profileArgs, ...(options.nodeArgs?.[name] ?? []), CLI, command],
      { ...processEnv(env), ...(heapCaps === 'production' ? productionProcessEnv(name) : {}) },
      join(logs, `${name}.log`),
    );
  const worker = parts.worker ? spawnHookflow('worker', 'worker') : null;
  const receiver = parts.receiver ? spawnHookflow('receiver', 'serve') : null;
  const stop = async () => {
    await Promise.all([receiver?.stop(), worker?.stop()]);
  };
  try {
    await Promise.all([
      receiver ? waitReceiverReady(receiver, `http://127.0.0.1:${port}`) : undefined,
      worker ? waitWorkerPolling(worker, stack.temporalAddress) : undefined,
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    receiver: receiver ? Object.assign(receiver, { url: `http://127.0.0.1:${port}` }) : null,
    worker,
    env,
    stop,
  };
}

function exitedWith(child: BenchChild): () => number | null | undefined {
  let code: number | null | undefined;
  void child.exited.then((value) => (code = value));
  return () => code;
}

async function waitReceiverReady(receiver: BenchChild, url: string, timeoutMs = 90_000): Promise<void> {
  const exitCode = exitedWith(receiver);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode() !== undefined) {
      throw new Error(`receiver exited (code ${exitCode()}) while starting:\n${receiver.logTail()}`);
    }
    try {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`receiver not ready (GET /readyz) within ${timeoutMs / 1000} s:\n${receiver.logTail()}`);
}

/** The worker is ready once Temporal sees it polling the workflow task queue. */
async function waitWorkerPolling(worker: BenchChild, address: string, timeoutMs = 180_000): Promise<void> {
  const exitCode = exitedWith(worker);
  const connection = await Connection.connect({ address });
  try {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitCode() !== undefined) {
        throw new Error(`worker exited (code ${exitCode()}) while starting:\n${worker.logTail()}`);
      }
      const described = await connection.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: TASK_QUEUE, kind: 1 /* NORMAL */ },
        taskQueueType: 1 /* WORKFLOW */,
      });
      if ((described.pollers ?? []).length > 0) return;
      await sleep(500);
    }
    throw new Error(`worker not polling ${TASK_QUEUE} within ${timeoutMs / 1000} s:\n${worker.logTail()}`);
  } finally {
    await connection.close();
  }
}
