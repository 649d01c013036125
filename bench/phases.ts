import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreWatch, type CompletionResult } from './completion';
import { BENCH_SECRET, EventGenerator } from './events';
import { REPO_ROOT, freePort } from './hookflow';
import { connectionsForRate, describeLoad, round, runLoad, type LoadResult } from './load';
import { buildEvents, runOpenLoad } from './open-load';
import type { Plan } from './plan';
import { prefillStore, type PrefillResult } from './prefill';
import { CpuMeter, MemorySampler, progress, settle, sleep, spawnChild, type BenchChild } from './procs';
import {
  benchStackDescription,
  startBenchStack,
  startHookflow,
  workerNonStickyPollRatio,
  workflowStartConcurrency,
  type BenchStack,
  type HookflowProcesses,
} from './stack';
import { probeStore, type ProbeResult } from './store-probe';

/**
 * The phase groups. Each group runs on its own fresh stack (new data directory), so leftovers of
 * one group never load the next: ack; ceiling + e2e; growth; burst. Each returns its figures and
 * the peak memory of every process it ran.
 */

export type Peaks = Record<string, number>;

const BENCH_DIST = join(REPO_ROOT, 'dist', 'bench');

// --- shared helpers ---------------------------------------------------------------------------------

async function withStack<T>(
  label: string,
  parts: { receiver: boolean; worker: boolean } | null,
  body: (stack: BenchStack, hookflow: HookflowProcesses | null, sampler: MemorySampler) => Promise<T>,
): Promise<{ result: T; peaks: Peaks }> {
  progress(`${label}: starting a fresh ${benchStackDescription()}`);
  const stack = await startBenchStack(label);
  const sampler = new MemorySampler(500);
  sampler.track('temporal', stack.pids.temporal);
  sampler.track('ferretdb', stack.pids.ferretdb);
  sampler.start();
  let hookflow: HookflowProcesses | null = null;
  try {
    if (parts) {
      progress(
        `${label}: starting ${[parts.receiver && 'receiver', parts.worker && 'worker'].filter(Boolean).join(' and ')}`,
      );
      hookflow = await startHookflow(stack, parts);
      if (hookflow.receiver) sampler.track('receiver', hookflow.receiver.pid);
      if (hookflow.worker) sampler.track('worker', hookflow.worker.pid);
    }
    const result = await body(stack, hookflow, sampler);
    return { result, peaks: sampler.stop() };
  } finally {
    sampler.stop();
    if (hookflow) {
      sampler.untrack('receiver');
      sampler.untrack('worker');
      await hookflow.stop();
    }
    await stack.stop();
    progress(`${label}: stack stopped`);
  }
}

function stackPids(stack: BenchStack, hookflow: HookflowProcesses | null): Record<string, number> {
  const pids: Record<string, number> = { temporal: stack.pids.temporal, ferretdb: stack.pids.ferretdb };
  if (hookflow?.receiver) pids.receiver = hookflow.receiver.pid;
  if (hookflow?.worker) pids.worker = hookflow.worker.pid;
  pids.bench = process.pid;
  return pids;
}

function rateOf(completion: CompletionResult): number {
  return (completion.processed + completion.failed) / Math.max(0.001, completion.seconds);
}

/** Cores the rest of the machine (other processes) kept busy meanwhile: competition for the CPU. */
function otherCores(cpu: Record<string, number>, seconds: number): number {
  return round((cpu.other ?? 0) / 1000 / Math.max(0.001, seconds), 2);
}

/** Cores kept busy by the measured processes (not `other`: the rest of the machine). */
function coresBusy(cpu: Record<string, number>, seconds: number): number {
  const total = Object.entries(cpu).reduce((sum, [name, ms]) => (name === 'other' ? sum : sum + ms), 0);
  return round(total / 1000 / Math.max(0.001, seconds), 2);
}

function perEvent(cpu: Record<string, number>, events: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, events > 0 ? round(ms / events, 2) : 0]));
}

async function warmUp(url: string, seconds: number): Promise<void> {
  await runLoad({ url, generator: new EventGenerator(), connections: 50, durationS: seconds });
}

// --- ack --------------------------------------------------------------------------------------------

export interface AckStep extends LoadResult {
  settle_ms: number;
  cpu_ms_per_request: Record<string, number>;
  other_cores: number;
}

export interface AckResult {
  baseline: { concurrency: AckStep; rate: AckStep; rss_mib: number };
  concurrency: AckStep;
  rates: AckStep[];
  peaks: Peaks;
}

export async function ackPhase(plan: Plan): Promise<AckResult> {
  const { ack } = plan;
  // 1. Stripe's docs handler in its own process: the same load generator, the same payloads.
  progress('ack: baseline (Stripe docs handler: constructEvent + 200) in its own process');
  const port = await freePort();
  const baseline = spawnChild(
    'baseline',
    process.execPath,
    [join(BENCH_DIST, 'baseline-server.js')],
    {
      PATH: process.env.PATH ?? '',
      BASELINE_PORT: String(port),
      BASELINE_SECRET: BENCH_SECRET,
      NODE_ENV: 'production',
    },
    join(tmpdir(), `hookflow-bench-baseline-${process.pid}.log`),
  );
  const baselineSampler = new MemorySampler(500);
  let baselineResult: AckResult['baseline'];
  try {
    await waitHealthy(baseline, `http://127.0.0.1:${port}/healthz`);
    baselineSampler.track('baseline', baseline.pid);
    baselineSampler.start();
    const url = `http://127.0.0.1:${port}/webhooks/stripe`;
    await warmUp(url, plan.warmUpS);
    const pids = { baseline: baseline.pid, bench: process.pid };
    const concurrency = await ackStep(url, pids, [baseline.pid], 5_000, {
      connections: ack.concurrency.connections,
      durationS: ack.concurrency.durationS,
    });
    progress(`ack: baseline ${describeLoad(concurrency)}`);
    const rate = await ackStep(url, pids, [baseline.pid], 5_000, {
      rate: ack.headlineRate,
      connections: connectionsForRate(ack.headlineRate),
      durationS: ack.rateDurationS,
    });
    progress(`ack: baseline ${describeLoad(rate)}`);
    baselineSampler.untrack('baseline');
    baselineResult = { concurrency, rate, rss_mib: baselineSampler.stop().baseline ?? 0 };
  } finally {
    baselineSampler.stop();
    await baseline.stop();
    rmSync(baseline.logFile, { force: true });
  }

  // 2. hookflow's receiver on a fresh stack. The worker is not running: every step's events wait in
  // Temporal, so no step's backlog is being processed during a later one (burst shows
  // acknowledgement while the worker works).
  const { result, peaks } = await withStack('ack', { receiver: true, worker: false }, async (stack, hookflow) => {
    const url = `${hookflow!.receiver!.url}/webhooks/stripe`;
    const pids = stackPids(stack, hookflow);
    const busy = [pids.receiver!, pids.temporal!, pids.ferretdb!];
    await warmUp(url, plan.warmUpS);
    await settle(busy, ack.settleTimeoutMs);
    const concurrency = await ackStep(url, pids, busy, ack.settleTimeoutMs, {
      connections: ack.concurrency.connections,
      durationS: ack.concurrency.durationS,
    });
    progress(`ack: hookflow ${describeLoad(concurrency)}`);
    const rates: AckStep[] = [];
    for (const rate of ack.rates) {
      const step = await ackStep(url, pids, busy, ack.settleTimeoutMs, {
        rate,
        connections: connectionsForRate(rate),
        durationS: ack.rateDurationS,
      });
      progress(`ack: hookflow ${describeLoad(step)}`);
      rates.push(step);
    }
    return { concurrency, rates };
  });
  return { baseline: baselineResult, ...result, peaks };
}

/** Waits for the previous step's leftovers to drain, then one load run with CPU per request. */
async function ackStep(
  url: string,
  pids: Record<string, number>,
  busy: number[],
  settleTimeoutMs: number,
  load: { connections: number; durationS: number; rate?: number },
): Promise<AckStep> {
  // Open model: the signed events are built before the clock (and the CPU meter) starts.
  const events = load.rate ? buildEvents(new EventGenerator(), { rate: load.rate, durationS: load.durationS }) : [];
  const settleMs = await settle(busy, settleTimeoutMs);
  const meter = new CpuMeter(pids).start();
  const result = load.rate
    ? await runOpenLoad({ url, events, rate: load.rate, connections: load.connections })
    : await runLoad({ url, generator: new EventGenerator(), ...load });
  const cpu = meter.stop();
  return {
    ...result,
    settle_ms: settleMs,
    cpu_ms_per_request: perEvent(cpu, result.responses),
    other_cores: otherCores(cpu, result.duration_s),
  };
}

async function waitHealthy(child: BenchChild, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok) return;
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error(`${child.name} did not answer ${url} within ${timeoutMs / 1000} s:\n${child.logTail()}`);
}

// --- ceiling + e2e --------------------------------------------------------------------------------

export interface CeilingResult {
  workflows: number;
  concurrency: number;
  completed: number;
  start_errors: number;
  seconds: number;
  start_seconds: number;
  ceiling_wps: number;
  timed_out: boolean;
  temporal_cpu_ms_per_workflow: number;
  /** The ceiling process (worker + client) over the measured part. */
  process_cpu_ms: number;
  /** Cores used by other processes on the machine during the run (incl. the ceiling's warm-up). */
  other_cores: number;
  /** The ceiling worker's `nonStickyToStickyPollRatio`: hookflow's worker's (absent in reports before it). */
  nonsticky_poll_ratio?: number;
}

export interface E2eResult {
  events: number;
  mix: Record<string, number>;
  load: LoadResult;
  completion: CompletionResult;
  events_per_s: number;
  cpu_ms: Record<string, number>;
  cpu_ms_per_event: Record<string, number>;
  /** CPU of all measured processes together ÷ wall time: how many cores were busy on average. */
  cores_busy: number;
  other_cores: number;
}

export async function ceilingAndE2ePhase(
  plan: Plan,
  run: { ceiling: boolean; e2e: boolean },
): Promise<{ ceiling: CeilingResult | null; e2e: E2eResult | null; peaks: Peaks }> {
  const { result, peaks } = await withStack('ceiling-e2e', null, async (stack, _none, sampler) => {
    let ceiling: CeilingResult | null = null;
    if (run.ceiling) ceiling = await ceilingRun(plan, stack);
    let e2e: E2eResult | null = null;
    if (run.e2e) {
      progress('e2e: starting receiver and worker');
      const hookflow = await startHookflow(stack, { receiver: true, worker: true });
      sampler.track('receiver', hookflow.receiver!.pid);
      sampler.track('worker', hookflow.worker!.pid);
      try {
        e2e = await e2eRun(plan, stack, hookflow);
      } finally {
        sampler.untrack('receiver');
        sampler.untrack('worker');
        await hookflow.stop();
      }
    }
    return { ceiling, e2e };
  });
  return { ...result, peaks };
}

async function ceilingRun(plan: Plan, stack: BenchStack): Promise<CeilingResult> {
  const { workflows } = plan.ceiling;
  // As hookflow's receiver starts them: its starts in flight (WORKFLOW_START_CONCURRENCY).
  const concurrency = workflowStartConcurrency();
  progress(`ceiling: ${workflows} trivial workflows, ${concurrency} starts in flight, worker in its own process`);
  let output = '';
  const temporalCpu = new CpuMeter({
    temporal: stack.pids.temporal,
    ferretdb: stack.pids.ferretdb,
    bench: process.pid,
  }).start();
  const began = Date.now();
  const child = spawnChild(
    'ceiling',
    process.execPath,
    [join(BENCH_DIST, 'ceiling.js')],
    {
      PATH: process.env.PATH ?? '',
      TEMPORAL_ADDRESS: stack.temporalAddress,
      CEILING_COUNT: String(workflows),
      CEILING_CONCURRENCY: String(concurrency),
      CEILING_TASK_QUEUE: 'bench-ceiling',
      CEILING_NONSTICKY_POLL_RATIO: String(workerNonStickyPollRatio()),
      CEILING_TIMEOUT_S: String(Math.round(plan.outcomeTimeoutMs / 1000)),
    },
    join(stack.dataDir, 'logs', 'ceiling.log'),
    { captureStdout: (chunk) => (output += chunk) },
  );
  const code = await child.exited;
  const line = /CEILING_RESULT (.*)/.exec(output)?.[1];
  if (code !== 0 || !line) throw new Error(`ceiling run failed (exit ${code}):\n${child.logTail()}`);
  const parsed = JSON.parse(line) as Omit<CeilingResult, 'temporal_cpu_ms_per_workflow' | 'other_cores'>;
  const used = temporalCpu.stop();
  const cpu = used.temporal ?? 0;
  // `other` includes the ceiling process itself: take out what it reported for its measured part.
  const otherMs = Math.max(0, (used.other ?? 0) - parsed.process_cpu_ms);
  const result: CeilingResult = {
    ...parsed,
    seconds: round(parsed.seconds, 2),
    start_seconds: round(parsed.start_seconds, 2),
    ceiling_wps: round(parsed.ceiling_wps),
    // Includes the worker's bundling/start-up time, when the server is mostly idle.
    temporal_cpu_ms_per_workflow: round(cpu / Math.max(1, parsed.completed), 2),
    other_cores: round(otherMs / Math.max(1, Date.now() - began), 2),
  };
  progress(`ceiling: ${result.completed} completed in ${result.seconds} s → ${result.ceiling_wps} workflows/s`);
  return result;
}

async function e2eRun(plan: Plan, stack: BenchStack, hookflow: HookflowProcesses): Promise<E2eResult> {
  const { events, connections } = plan.e2e;
  const url = `${hookflow.receiver!.url}/webhooks/stripe`;
  const pids = stackPids(stack, hookflow);
  await settle([pids.temporal!, pids.ferretdb!, pids.worker!, pids.receiver!], 60_000);
  const watch = await StoreWatch.open(stack.mongoUrl, stack.temporalAddress);
  try {
    const start = await watch.begin();
    const generator = new EventGenerator();
    progress(`e2e: sending ${events} mixed signed events over ${connections} connections`);
    const meter = new CpuMeter(pids).start();
    const startedAt = Date.now();
    const load = await runLoad({ url, generator, connections, amount: events });
    progress(`e2e: sent — ${describeLoad(load)}`);
    const completion = await watch.waitForOutcomes({
      label: 'e2e',
      expected: load['2xx'],
      start,
      startedAt,
      timeoutMs: plan.outcomeTimeoutMs,
    });
    const cpu = meter.stop();
    const done = completion.processed + completion.failed;
    const result: E2eResult = {
      events,
      mix: generator.counts,
      load,
      completion: { ...completion, seconds: round(completion.seconds, 2) },
      events_per_s: round(done / completion.seconds),
      cpu_ms: cpu,
      cpu_ms_per_event: perEvent(cpu, done),
      cores_busy: coresBusy(cpu, completion.seconds),
      other_cores: otherCores(cpu, completion.seconds),
    };
    progress(
      `e2e: ${completion.processed} processed, ${completion.failed} failed in ${result.completion.seconds} s → ${result.events_per_s} events/s${completion.timed_out ? ' (TIMED OUT)' : ''}`,
    );
    return result;
  } finally {
    await watch.close();
  }
}

// --- growth ---------------------------------------------------------------------------------------

export interface GrowthWindow {
  label: string;
  stored_before: number;
  stored_after: number;
  load: LoadResult;
  completion: CompletionResult;
  events_per_s: number;
  cpu_ms_per_event: Record<string, number>;
  cores_busy: number;
  other_cores: number;
  probe: ProbeResult;
}

export interface GrowthResult {
  windows: GrowthWindow[];
  prefill: Omit<PrefillResult, 'eventKeys' | 'objectStateKeys'> & { events_per_s: number };
  slowdown: number;
  peaks: Peaks;
}

export async function growthPhase(plan: Plan): Promise<GrowthResult> {
  const { windowEvents, prefillTo, probeOps, connections } = plan.growth;
  const { result, peaks } = await withStack('growth', { receiver: true, worker: true }, async (stack, hookflow) => {
    const url = `${hookflow!.receiver!.url}/webhooks/stripe`;
    const pids = stackPids(stack, hookflow);
    const busy = [pids.temporal!, pids.ferretdb!, pids.worker!, pids.receiver!];
    const generator = new EventGenerator(BENCH_SECRET, true);
    const keys = { stripe_events: [] as string[], object_state: [] as string[] };
    const watch = await StoreWatch.open(stack.mongoUrl, stack.temporalAddress);
    try {
      const windows: GrowthWindow[] = [];
      const runWindow = async (label: string, storedBefore: number): Promise<GrowthWindow> => {
        await settle(busy, 60_000);
        const start = await watch.begin();
        progress(`growth: window ${label} — ${windowEvents} events into a store of ${storedBefore}`);
        const meter = new CpuMeter(pids).start();
        const startedAt = Date.now();
        const load = await runLoad({ url, generator, connections, amount: windowEvents });
        progress(`growth: window ${label} sent — ${describeLoad(load)}`);
        const completion = await watch.waitForOutcomes({
          label: `growth ${label}`,
          expected: load['2xx'],
          start,
          startedAt,
          timeoutMs: plan.outcomeTimeoutMs,
        });
        const done = completion.processed + completion.failed;
        const cpu = meter.stop();
        keys.stripe_events.push(...generator.eventKeys.splice(0));
        keys.object_state.push(...generator.objectStateKeys.splice(0));
        progress(`growth: window ${label} → ${round(done / completion.seconds)} events/s; probing the store`);
        const probe = await probeStore(stack.mongoUrl, keys, probeOps, storedBefore + done);
        progress(
          `growth: at ${probe.stored_events} events: findOne p50 ${probe.stripe_events.findOne.p50_ms} ms, updateOne p50 ${probe.stripe_events.updateOne.p50_ms} ms (stripe_events)`,
        );
        return {
          label,
          stored_before: storedBefore,
          stored_after: storedBefore + done,
          load,
          completion: { ...completion, seconds: round(completion.seconds, 2) },
          events_per_s: round(done / completion.seconds),
          cpu_ms_per_event: perEvent(cpu, done),
          cores_busy: coresBusy(cpu, completion.seconds),
          other_cores: otherCores(cpu, completion.seconds),
          probe,
        };
      };

      // The phase's stack is fresh: window 1 starts on an empty store. Stored counts are kept here, not
      // counted in the store (a count by status is a full scan on FerretDB; see completion.ts).
      const first = await runWindow(`0–${windowEvents.toLocaleString('en-US')}`, 0);
      windows.push(first);
      const toAdd = Math.max(0, prefillTo - first.stored_after);
      progress(`growth: prefilling ${toAdd} events directly into the store (to ${prefillTo})`);
      let lastReport = 0;
      const prefill = await prefillStore(stack.mongoUrl, toAdd, (done, total) => {
        if (Date.now() - lastReport >= 10_000 || done === total) {
          lastReport = Date.now();
          progress(`growth: prefill ${done}/${total}`);
        }
      });
      keys.stripe_events.push(...prefill.eventKeys);
      keys.object_state.push(...prefill.objectStateKeys);
      const second = await runWindow(
        `${prefillTo.toLocaleString('en-US')}–${(prefillTo + windowEvents).toLocaleString('en-US')}`,
        first.stored_after + prefill.events,
      );
      windows.push(second);
      return {
        windows,
        prefill: {
          events: prefill.events,
          objectStates: prefill.objectStates,
          objectChildren: prefill.objectChildren,
          cases: prefill.cases,
          paymentSessions: prefill.paymentSessions,
          seconds: round(prefill.seconds, 2),
          events_per_s: round(prefill.events / Math.max(0.001, prefill.seconds)),
        },
        // From the unrounded rates.
        slowdown: round(rateOf(first.completion) / Math.max(0.001, rateOf(second.completion)), 3),
      };
    } finally {
      await watch.close();
    }
  });
  return { ...result, peaks };
}

// --- burst ----------------------------------------------------------------------------------------

export interface BurstResult {
  planned: number;
  sent: number;
  acked: number;
  processed: number;
  failed: number;
  load: LoadResult;
  completion: CompletionResult;
  drain_events_per_s: number;
  cpu_ms_per_event: Record<string, number>;
  cores_busy: number;
  other_cores: number;
  peaks: Peaks;
}

export async function burstPhase(plan: Plan): Promise<BurstResult> {
  const { events, rate } = plan.burst;
  const { result, peaks } = await withStack('burst', { receiver: true, worker: true }, async (stack, hookflow) => {
    const url = `${hookflow!.receiver!.url}/webhooks/stripe`;
    const pids = stackPids(stack, hookflow);
    await settle([pids.temporal!, pids.ferretdb!, pids.worker!, pids.receiver!], 60_000);
    const watch = await StoreWatch.open(stack.mongoUrl, stack.temporalAddress);
    try {
      const start = await watch.begin();
      progress(`burst: ${events} events at ${rate}/s (open model), worker running`);
      const signed = buildEvents(new EventGenerator(), { rate, amount: events });
      const meter = new CpuMeter(pids).start();
      const startedAt = Date.now();
      const load = await runOpenLoad({ url, events: signed, rate, connections: connectionsForRate(rate) });
      progress(`burst: sent — ${describeLoad(load)}`);
      const completion = await watch.waitForOutcomes({
        label: 'burst',
        expected: load['2xx'],
        start,
        startedAt,
        timeoutMs: plan.burst.timeoutMs,
      });
      const cpu = meter.stop();
      const done = completion.processed + completion.failed;
      progress(
        `burst: ${completion.processed} processed, ${completion.failed} failed after ${round(completion.seconds)} s${completion.timed_out ? ' (TIMED OUT)' : ''}`,
      );
      return {
        planned: events,
        sent: load.sent,
        acked: load['2xx'],
        processed: completion.processed,
        failed: completion.failed,
        load,
        completion: { ...completion, seconds: round(completion.seconds, 2) },
        drain_events_per_s: round(done / completion.seconds),
        cpu_ms_per_event: perEvent(cpu, done),
        cores_busy: coresBusy(cpu, completion.seconds),
        other_cores: otherCores(cpu, completion.seconds),
      };
    } finally {
      await watch.close();
    }
  });
  return { ...result, peaks };
}
