import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';

/**
 * Child processes of the benchmark and what /proc says about them (Linux only): CPU ticks from
 * /proc/<pid>/stat, memory from /proc/<pid>/status. Every child is registered, so a crash or
 * Ctrl-C kills all of them.
 */

const started = Date.now();

/** A progress line on stderr, with the time since the benchmark began. */
export function progress(message: string): void {
  process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// --- cleanup registry ---------------------------------------------------------------------------

const cleanups = new Map<number, () => Promise<void>>();
const livePids = new Set<number>();
let nextCleanupId = 1;

/** Runs on SIGINT/SIGTERM and on a fatal error; returns the unregister function. */
export function onCleanup(cleanup: () => Promise<void>): () => void {
  const id = nextCleanupId++;
  cleanups.set(id, cleanup);
  return () => cleanups.delete(id);
}

/** Pids SIGKILLed at exit if still alive (last resort when a cleanup could not run). */
export function trackPid(pid: number): () => void {
  livePids.add(pid);
  return () => livePids.delete(pid);
}

export async function runCleanups(timeoutMs = 30_000): Promise<void> {
  const pending = [...cleanups.values()].reverse();
  cleanups.clear();
  await Promise.race([Promise.allSettled(pending.map((cleanup) => cleanup())), sleep(timeoutMs)]);
}

process.on('exit', () => {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

// --- child processes ----------------------------------------------------------------------------

export interface BenchChild {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
}

export function spawnChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  logFile: string,
  options: { captureStdout?: (chunk: string) => void } = {},
): BenchChild {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name} did not start (${command})`);
  const pid = child.pid;
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    options.captureStdout?.(chunk.toString('utf8'));
  });
  child.stderr.pipe(log);
  const untrack = trackPid(pid);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      untrack();
      resolve(code);
    });
    child.once('error', () => {
      untrack();
      resolve(-1);
    });
  });
  const stop = async (graceMs = 10_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    unregister();
    log.end();
  };
  const unregister = onCleanup(() => stop(5_000));
  return {
    name,
    pid,
    child,
    logFile,
    exited,
    stop,
    logTail(lines = 20) {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}

// --- /proc ------------------------------------------------------------------------------------------

let clockTicks: number | undefined;

/** Clock ticks per second of /proc/<pid>/stat times (getconf CLK_TCK, 100 on Linux/x86). */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface StatLine {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): StatLine | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
    return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return null;
  }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

type ChildMap = Map<number, number[]>;

/** ppid → pids, from one scan of /proc. */
function childMap(): ChildMap {
  const children: ChildMap = new Map();
  for (const candidate of allPids()) {
    const stat = readStat(candidate);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(candidate);
    children.set(stat.ppid, list);
  }
  return children;
}

/** The pid and every descendant (a wrapper script may run the real server as its child). */
export function processTree(pid: number, children: ChildMap = childMap()): number[] {
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && tree.length < 1000) {
    const next = queue.shift()!;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

export function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Direct children of this process whose command line mentions `needle` (e.g. a stack's data dir). */
export function childrenMentioning(needle: string): Array<{ pid: number; cmdline: string }> {
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat?.ppid !== process.pid) continue;
    const line = cmdline(pid);
    if (line.includes(needle)) found.push({ pid, cmdline: line });
  }
  return found;
}

/** utime + stime of a process and its descendants, in milliseconds. */
export function cpuMs(pid: number, children?: ChildMap): number {
  let ticks = 0;
  for (const member of processTree(pid, children)) ticks += readStat(member)?.ticks ?? 0;
  return (ticks * 1000) / clkTck();
}

interface MemoryLine {
  rssKiB: number;
  hwmKiB: number;
}

function readMemory(pid: number): MemoryLine | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  } catch {
    return null;
  }
}

export const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

/** Samples the resident set of named processes every `intervalMs`, keeping each one's peak. */
export class MemorySampler {
  private readonly pids = new Map<string, number>();
  private readonly peakKiB = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs = 500) {}

  track(name: string, pid: number): void {
    this.pids.set(name, pid);
    this.sample();
  }

  start(): void {
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  /** Takes a last sample (VmHWM included: the kernel's own peak) and stops. */
  stop(): Record<string, number> {
    this.sample(true);
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return this.peaks();
  }

  /** Forget a process (it is about to exit) after a last sample including its VmHWM. */
  untrack(name: string): void {
    const pid = this.pids.get(name);
    if (pid !== undefined) this.sampleOne(name, pid, true);
    this.pids.delete(name);
  }

  peaks(): Record<string, number> {
    return Object.fromEntries([...this.peakKiB].map(([name, kib]) => [name, mib(kib)]));
  }

  private sample(withHighWaterMark = false): void {
    const children = childMap();
    for (const [name, pid] of this.pids) this.sampleOne(name, pid, withHighWaterMark, children);
  }

  private sampleOne(name: string, pid: number, withHighWaterMark: boolean, children?: ChildMap): void {
    // Sum over the process tree: a wrapper may run the real server as its child.
    let rss = 0;
    let hwm = 0;
    for (const member of processTree(pid, children)) {
      const memory = readMemory(member);
      rss += memory?.rssKiB ?? 0;
      hwm += memory?.hwmKiB ?? 0;
    }
    const value = withHighWaterMark ? Math.max(rss, hwm) : rss;
    if (value > (this.peakKiB.get(name) ?? 0)) this.peakKiB.set(name, value);
  }
}

/** CPU time the whole machine spent busy (all cores, /proc/stat), in milliseconds. */
export function machineBusyMs(): number {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    const busy = fields.slice(0, 8).reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + value), 0);
    return (busy * 1000) / clkTck();
  } catch {
    return 0;
  }
}

/**
 * CPU milliseconds each named process (with its descendants) used between `start()` and `stop()`.
 * This process itself is counted alone: its descendants are the stack and hookflow. `other` is
 * what the rest of the machine used meanwhile (other processes competing for the cores).
 */
const MACHINE = '__machine';

export class CpuMeter {
  private readonly before = new Map<string, number>();

  constructor(private readonly pids: Record<string, number>) {}

  start(): this {
    for (const [name, ms] of Object.entries(this.read())) this.before.set(name, ms);
    return this;
  }

  stop(): Record<string, number> {
    const used = Object.fromEntries(
      Object.entries(this.read()).map(([name, ms]) => [name, Math.round(ms - (this.before.get(name) ?? 0))]),
    );
    const { [MACHINE]: machine = 0, ...named } = used;
    const ours = Object.values(named).reduce((sum, ms) => sum + ms, 0);
    return { ...named, other: Math.max(0, machine - ours) };
  }

  private read(): Record<string, number> {
    const children = childMap();
    const noChildren: ChildMap = new Map();
    return {
      ...Object.fromEntries(
        Object.entries(this.pids).map(([name, pid]) => [name, cpuMs(pid, pid === process.pid ? noChildren : children)]),
      ),
      [MACHINE]: machineBusyMs(),
    };
  }
}

/**
 * Waits until the given processes together use less than `maxCores` of CPU over a 1 s window
 * (leftover work of the previous step has drained), at most `timeoutMs`. Returns the wait in ms.
 */
export async function settle(pids: number[], timeoutMs: number, maxCores = 0.15): Promise<number> {
  const begin = Date.now();
  while (Date.now() - begin < timeoutMs) {
    const total = () => {
      const children = childMap();
      return pids.reduce((sum, pid) => sum + cpuMs(pid, children), 0);
    };
    const before = total();
    await sleep(1_000);
    const used = total() - before;
    if (used / 1_000 < maxCores) break;
  }
  return Date.now() - begin;
}
