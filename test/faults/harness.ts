import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { isListening } from '../../src/stack/ports';
import { REPO_ROOT } from '../../src/version';

/**
 * Process control for the fault suite: hookflow's receiver and worker run as separate
 * `node dist/src/cli/main.js serve|worker` children (the production shape) that the suite can
 * SIGKILL, SIGTERM and restart; the embedded Temporal and FerretDB started by startLocalStack are
 * found by their command lines and can be stopped and started again with the same arguments.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const started = Date.now();
export function progress(message: string): void {
  process.stdout.write(`      [faults +${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);
}

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** A hookflow process under a supervisor: an exit nobody asked for is counted and restarted. */
export class Supervised {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private planned = false;
  private closed = false;
  crashes = 0;
  starts = 0;

  constructor(
    readonly name: string,
    private readonly command: 'serve' | 'worker',
    private readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
    private readonly ready: () => Promise<boolean>,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [CLI, this.command], { env: this.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.starts++;
    this.planned = false;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = null;
        if (!this.planned && !this.closed) {
          this.crashes++;
          progress(`${this.name} exited unexpectedly (code ${code}, signal ${signal}); supervisor restarts it`);
          // Bounded: a process that cannot start (dependency down) is retried every 2 s by the supervisor.
          if (this.crashes <= 200)
            void sleep(2_000).then(() => (this.closed ? undefined : this.start().catch(() => undefined)));
        }
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child !== child) throw new Error(`${this.name} exited while starting; see ${this.logFile}`);
      if (await this.ready()) return;
      await sleep(200);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals, graceMs = 30_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.planned = true;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop('SIGTERM', 10_000);
  }
}

/** Infrastructure started by startLocalStack, stopped and restarted with its own command line. */
export class Infra {
  private pid: number;
  private readonly argv: string[];
  private respawned: ChildProcess | null = null;
  restarts = 0;

  constructor(
    readonly name: string,
    match: (argv: string[]) => boolean,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly ready: () => Promise<boolean>,
  ) {
    const found = childProcesses().find((entry) => match(entry.argv));
    if (!found) throw new Error(`${name}: no child process matches`);
    this.pid = found.pid;
    this.argv = found.argv;
  }

  async stop(): Promise<void> {
    signal(this.pid, 'SIGTERM');
    for (let waited = 0; alive(this.pid); waited += 100) {
      if (waited === 15_000) signal(this.pid, 'SIGKILL');
      if (waited > 30_000) throw new Error(`${this.name} (pid ${this.pid}) did not exit`);
      await sleep(100);
    }
  }

  async start(timeoutMs = 90_000): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    const child = spawn(this.argv[0]!, this.argv.slice(1), { env: this.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    if (child.pid === undefined) throw new Error(`${this.name} did not start`);
    child.on('exit', () => undefined); // reaped by Node
    this.respawned = child;
    this.pid = child.pid;
    this.restarts++;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${this.name} exited while restarting; see ${this.logFile}`);
      if (await this.ready()) return;
      await sleep(250);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms`);
  }

  /** Only what this suite respawned; the originals are stopped by the stack. */
  async close(): Promise<void> {
    if (this.respawned && this.respawned.exitCode === null && alive(this.pid)) await this.stop();
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // gone already
  }
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** This process's children with their argv (Linux /proc). */
function childProcesses(): Array<{ pid: number; argv: string[] }> {
  const result: Array<{ pid: number; argv: string[] }> = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8')
        .split('\0')
        .filter((part) => part.length > 0);
      result.push({ pid: Number(name), argv });
    } catch {
      // exited meanwhile
    }
  }
  return result;
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
    await connection?.close().catch(() => undefined);
  }
}

export const portReady = (port: number) => () => isListening(port);

// --- HTTP -----------------------------------------------------------------------------------------

export interface Answer {
  status: number;
  /** 0 when no answer arrived: `error` says why (ECONNREFUSED, ECONNRESET, timeout). */
  error?: string;
  json?: { duplicate?: boolean; error?: { code?: string } };
  ms: number;
}

/** One request on its own connection (no keep-alive), so a reset means exactly this request. */
export function send(
  port: number,
  method: string,
  path: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
  timeoutMs = 30_000,
): Promise<Answer> {
  const begun = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...answer, ms: Date.now() - begun });
    };
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { connection: 'close', ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          let json: Answer['json'];
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['json'];
          } catch {
            json = undefined;
          }
          finish({ status: res.statusCode ?? 0, json });
        });
        res.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, error: error.code ?? error.message }));
      },
    );
    req.setTimeout(timeoutMs, () => {
      finish({ status: 0, error: 'timeout' });
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ status: 0, error: error.code ?? error.message }));
    req.end(body);
  });
}

/** Runs `work` over `items` with at most `concurrency` at once and at most `ratePerSecond` started per second. */
export async function runLoad<T, R>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
  ratePerSecond?: number,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const begun = Date.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      for (;;) {
        const index = next++;
        if (index >= items.length) return;
        if (ratePerSecond) {
          const due = begun + (index / ratePerSecond) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
        }
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}

/** Seeded PRNG (mulberry32): the fuzz run is the same on every machine for one seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
