import type { AckStep, BurstResult, CeilingResult, E2eResult, GrowthWindow, GrowthResult, Peaks } from './phases';
import type { LoadResult } from './load';
import type { Phase } from './plan';

/** The JSON report (bench/results/*.json). Headline keys are fixed; the rest is detail. */
export interface BenchReport {
  at: string;
  stack: string;
  quick: boolean;
  phases: Phase[];
  git: { commit: string; dirty: boolean };
  machine: Record<string, unknown>;
  tunings: Record<string, unknown>;
  ack: {
    baseline_rps: number | null;
    headline_rate: number;
    rps: number | null;
    p50_ms: number | null;
    p99_ms: number | null;
    max_ms: number | null;
    non2xx: number | null;
    baseline: { concurrency: AckStep; rate: AckStep; rss_mib: number } | null;
    concurrency: AckStep | null;
    rates: AckStep[];
  } | null;
  temporal: { ceiling_wps: number; ceiling: CeilingResult } | null;
  e2e: (Omit<E2eResult, 'cpu_ms'> & { ratio_to_ceiling: number | null }) | null;
  growth: Omit<GrowthResult, 'peaks'> | null;
  burst: Omit<BurstResult, 'peaks'> | null;
  rss_mib: {
    worker: number | null;
    receiver: number | null;
    temporal: number | null;
    ferretdb: number | null;
    by_group: Record<string, Peaks>;
  };
  cpu_ms_per_event: Record<string, number> | null;
  phase_seconds: Record<string, number>;
  errors: Record<string, string>;
}

export const TARGETS = {
  ackRate: 1000,
  ackP99Ms: 100,
  e2eRatio: 0.8,
  growthSlowdown: 1.1,
  workerRssMiB: 300,
  receiverRssMiB: 150,
};

const fmt = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '—' : value.toLocaleString('en-US', { maximumFractionDigits: digits });
const met = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? 'met' : 'NOT met');

/** What each `--stack` runs, for the report's first line. */
const STACK_DESCRIPTIONS: Record<string, string> = {
  embedded: 'Temporal dev server + FerretDB (`startLocalStack`)',
  prod: 'temporal-server on PostgreSQL with SQL visibility + FerretDB (`startProdInfra`, as `npm run stack:prod`)',
};

export function renderMarkdown(report: BenchReport): string {
  const lines: string[] = [];
  const push = (...more: string[]) => lines.push(...more);
  const { ack, temporal, e2e, growth, burst, rss_mib } = report;

  push(`# hookflow benchmark — ${report.at}`, '');
  push(
    `Stack \`${report.stack}\`: ${STACK_DESCRIPTIONS[report.stack] ?? 'unknown'} (fresh data directory per phase group), ` +
      `receiver (\`hookflow serve\`) and worker (\`hookflow worker\`) as separate processes, load from the benchmark process ` +
      `(autocannon for closed-model steps, bench/open-load.ts on undici for fixed arrival rates), everything on one machine over loopback. Commit ${report.git.commit}${report.git.dirty ? ' (working tree had uncommitted changes)' : ''}.`,
    '',
  );
  if (report.quick)
    push('**Quick run (`--quick`): small numbers for checking the harness; the figures mean little.**', '');
  push(
    `Machine: ${report.machine.cores} cores (${String(report.machine.cpu_model)}), ${fmt(report.machine.memory_mib as number, 0)} MiB, Node ${String(report.machine.node)}.`,
    '',
  );

  push('## Headline figures', '', '| figure | measured | target | |', '|---|---|---|---|');
  if (ack) {
    const ackOk =
      ack.rps === null
        ? null
        : ack.rps >= TARGETS.ackRate * 0.99 && (ack.p99_ms ?? Infinity) <= TARGETS.ackP99Ms && ack.non2xx === 0;
    push(
      `| acknowledgement at ${fmt(ack.headline_rate, 0)}/s offered | ${fmt(ack.rps)}/s 2xx, p50 ${fmt(ack.p50_ms)} ms, p99 ${fmt(ack.p99_ms)} ms, max ${fmt(ack.max_ms)} ms, ${fmt(ack.non2xx, 0)} non-2xx | ≥ 1,000/s (within 1 %), all 2xx, p99 ≤ 100 ms | ${met(ackOk)} |`,
    );
    push(
      `| Stripe docs handler (verify + 200), ${ack.baseline?.concurrency.connections ?? '—'} connections | ${fmt(ack.baseline_rps)}/s | reference | |`,
    );
    if (ack.concurrency) {
      push(
        `| hookflow receiver, ${ack.concurrency.connections} connections | ${fmt(ack.concurrency.ok_rps)}/s (${fmt(ack.baseline_rps ? ack.concurrency.ok_rps / ack.baseline_rps : null, 2)} × docs handler) | reference | |`,
      );
    }
  }
  if (temporal)
    push(`| Temporal ceiling (trivial workflow) | ${fmt(temporal.ceiling_wps)} workflows/s | reference | |`);
  if (e2e) {
    const ratio = e2e.ratio_to_ceiling;
    push(
      `| end-to-end, ${fmt(e2e.events, 0)} mixed events | ${fmt(e2e.events_per_s)} events/s = ${fmt(ratio, 2)} × ceiling | ≥ 0.8 × ceiling | ${met(ratio === null ? null : ratio >= TARGETS.e2eRatio && !e2e.completion.timed_out)} |`,
    );
  }
  if (growth) {
    const [first, last] = [growth.windows[0], growth.windows.at(-1)];
    push(
      `| growth slowdown (rate at ${first ? storeRange(first) : '—'} ÷ rate at ${last ? storeRange(last) : '—'}) | ${fmt(growth.slowdown, 3)} (${fmt(first?.events_per_s)} → ${fmt(last?.events_per_s)} events/s) | ≤ 1.1 | ${met(growth.slowdown <= TARGETS.growthSlowdown)} |`,
    );
  }
  if (burst) {
    const target = burst.planned;
    push(
      `| burst ${fmt(burst.planned, 0)} events at ${fmt(burst.load.offered_rate, 0)}/s: sent / acked / processed | ${fmt(burst.sent, 0)} / ${fmt(burst.acked, 0)} / ${fmt(burst.processed, 0)}${burst.failed ? ` (+${burst.failed} failed)` : ''} | ${fmt(target, 0)} / ${fmt(target, 0)} / ${fmt(target, 0)} | ${met(burst.sent === target && burst.acked === target && burst.processed === target && !burst.completion.timed_out)} |`,
    );
  }
  push(
    `| worker peak RSS | ${fmt(rss_mib.worker)} MiB | ≤ 300 MiB | ${met(rss_mib.worker === null ? null : rss_mib.worker <= TARGETS.workerRssMiB)} |`,
    `| receiver peak RSS | ${fmt(rss_mib.receiver)} MiB | ≤ 150 MiB | ${met(rss_mib.receiver === null ? null : rss_mib.receiver <= TARGETS.receiverRssMiB)} |`,
    '',
  );
  if (Object.keys(report.errors).length > 0) {
    push('## Errors', '');
    for (const [phase, message] of Object.entries(report.errors)) push(`- **${phase}**: ${message.split('\n')[0]}`);
    push('');
  }

  if (ack) {
    push('## Acknowledgement', '');
    push(
      'Fresh signed, unique, mixed events per request. Closed model: fixed connections, each sending when answered. ' +
        'Open model (bench/open-load.ts): request i sent i/rate s after the start whatever was answered, over at most ' +
        'the listed connections; latency from its scheduled time to the answer (waits for a free connection count), ' +
        'signed events built before the clock starts. hookflow: receiver only — the worker is not running, so the events of ' +
        'one step wait in Temporal instead of loading the next step; each step starts once the stack is idle again. ' +
        '"Other processes + steal" is the machine\'s busy time (/proc/stat, including time the hypervisor stole from ' +
        'this virtual machine) minus the measured processes: a step where it is high ran on a contended host.',
      '',
    );
    push(
      '| server | load | connections | 2xx | non-2xx | errors | 2xx/s | p50 ms | p99 ms | max ms | receiver CPU ms/req | Temporal CPU ms/req | FerretDB CPU ms/req | other processes + steal, cores |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    const row = (server: string, step: AckStep) =>
      push(
        `| ${server} | ${loadLabel(step)} | ${step.connections} | ${fmt(step['2xx'], 0)} | ${fmt(step.non2xx, 0)} | ${fmt(step.errors, 0)} | ${fmt(step.ok_rps)} | ${fmt(step.p50_ms)} | ${fmt(step.p99_ms)} | ${fmt(step.max_ms)} | ${fmt(step.cpu_ms_per_request.receiver ?? step.cpu_ms_per_request.baseline, 2)} | ${fmt(step.cpu_ms_per_request.temporal, 2)} | ${fmt(step.cpu_ms_per_request.ferretdb, 2)} | ${fmt(step.other_cores, 2)} |`,
      );
    if (ack.baseline) {
      row('Stripe docs handler', ack.baseline.concurrency);
      row('Stripe docs handler', ack.baseline.rate);
    }
    if (ack.concurrency) row('hookflow', ack.concurrency);
    for (const step of ack.rates) row('hookflow', step);
    push('');
  }

  if (temporal) {
    const c = temporal.ceiling;
    push('## Temporal ceiling', '');
    push(
      `${fmt(c.workflows, 0)} trivial workflows (bench/workflows/trivial.ts: no activity, no timer) on task queue \`bench-ceiling\`, ` +
        `worker in its own process${c.nonsticky_poll_ratio === undefined ? '' : ` polling with hookflow's workflow-task poller ratio (${c.nonsticky_poll_ratio})`}, ` +
        `at most ${c.concurrency} start calls in flight, completions counted through visibility. ` +
        `${fmt(c.completed, 0)} completed in ${fmt(c.seconds, 2)} s (all started after ${fmt(c.start_seconds, 2)} s) → ` +
        `**${fmt(c.ceiling_wps)} workflows/s**; Temporal server CPU ${fmt(c.temporal_cpu_ms_per_workflow, 2)} ms per workflow, ` +
        `ceiling process ${fmt(c.process_cpu_ms / Math.max(1, c.completed), 2)} ms per workflow; other processes on the machine ` +
        `used ${fmt(c.other_cores, 2)} cores meanwhile (includes the ceiling process's start-up)` +
        `${c.timed_out ? ' — TIMED OUT' : ''}.`,
      '',
    );
  }

  if (e2e) {
    push('## End to end', '');
    push(
      `${fmt(e2e.events, 0)} signed events, mixed: ${Object.entries(e2e.mix)
        .map(([type, count]) => `${type} ${count}`)
        .join(', ')}. ` +
        `Sent over ${e2e.load.connections} connections (${loadSummary(e2e.load)}); timed from the first send until every ` +
        `acknowledged event's stored status was \`processed\` or \`failed\`: ${fmt(e2e.completion.processed, 0)} processed, ` +
        `${fmt(e2e.completion.failed, 0)} failed in ${fmt(e2e.completion.seconds, 2)} s → **${fmt(e2e.events_per_s)} events/s**` +
        `${e2e.ratio_to_ceiling !== null ? ` (${fmt(e2e.ratio_to_ceiling, 2)} × the ceiling)` : ''}${e2e.completion.timed_out ? ' — TIMED OUT' : ''}. ` +
        `Time to 50 / 90 / 99 / 100 % done: ${tail(e2e.completion)}.`,
      '',
    );
    push(
      `CPU per event over the phase (utime + stime from /proc; the benchmark process without its children). ` +
        `All of them together kept ${fmt(e2e.cores_busy, 2)} of ${String(report.machine.cores)} cores busy on average; ` +
        `other processes on the machine used ${fmt(e2e.other_cores, 2)} cores meanwhile.`,
      '',
    );
    push('| process | CPU ms per event |', '|---|---|');
    for (const [name, value] of Object.entries(e2e.cpu_ms_per_event))
      push(`| ${processName(name)} | ${fmt(value, 2)} |`);
    push('');
  }

  if (growth) {
    push('## Growth', '');
    push(
      `One stack: window 1 into an empty store; then ${fmt(growth.prefill.events, 0)} processed events written directly ` +
        `(bench/prefill.ts: ${fmt(growth.prefill.objectStates, 0)} object_state rows, ${fmt(growth.prefill.objectChildren, 0)} ` +
        `object_children, ${fmt(growth.prefill.cases, 0)} cases, ${fmt(growth.prefill.paymentSessions, 0)} payment sessions; ` +
        `${fmt(growth.prefill.seconds, 1)} s); then window 2. Store probes: sequential random-key operations with the MongoDB ` +
        `driver after each window, the stack otherwise idle.`,
      '',
    );
    push(
      '| window | events stored | events/s | cores busy | other processes + steal, cores | worker CPU ms/event | FerretDB CPU ms/event | stripe_events findOne p50 / p99 ms | stripe_events updateOne p50 / p99 ms | object_state findOne p50 / p99 ms | object_state updateOne p50 / p99 ms |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const window of growth.windows) {
      const p = window.probe;
      push(
        `| ${window.label} | ${fmt(window.stored_before, 0)} → ${fmt(window.stored_after, 0)} | ${fmt(window.events_per_s)} | ${fmt(window.cores_busy, 2)} | ${fmt(window.other_cores, 2)} | ${fmt(window.cpu_ms_per_event.worker, 2)} | ${fmt(window.cpu_ms_per_event.ferretdb, 2)} | ${pair(p.stripe_events.findOne)} | ${pair(p.stripe_events.updateOne)} | ${pair(p.object_state.findOne)} | ${pair(p.object_state.updateOne)} |`,
      );
    }
    push(
      '',
      `Slowdown (window 1 rate ÷ window 2 rate, unrounded): **${fmt(growth.slowdown, 3)}**. ` +
        `Time to 50 / 90 / 99 / 100 % of a window's workflows closed: ` +
        growth.windows.map((window) => `${window.label}: ${tail(window.completion)}`).join('; ') +
        '.',
      '',
    );
  }

  if (burst) {
    push('## Burst', '');
    push(
      `${fmt(burst.sent, 0)} events at ${fmt(burst.load.offered_rate, 0)}/s offered (open model, ${burst.load.connections} connections), ` +
        `worker running: ${loadSummary(burst.load)}. ${fmt(burst.processed, 0)} processed and ${fmt(burst.failed, 0)} failed ` +
        `${fmt(burst.completion.seconds, 1)} s after the first send (drain ${fmt(burst.drain_events_per_s)} events/s, ` +
        `${fmt(burst.cores_busy, 2)} cores busy on average, other processes ${fmt(burst.other_cores, 2)})` +
        `${burst.completion.timed_out ? ' — TIMED OUT before all were processed' : ''}. ` +
        `Time to 50 / 90 / 99 / 100 % done: ${tail(burst.completion)}.`,
      '',
    );
  }

  push('## Memory', '', 'Peak resident set (sampled every 500 ms, and VmHWM at the end) per phase group, MiB:', '');
  const groups = Object.entries(rss_mib.by_group);
  const names = [...new Set(groups.flatMap(([, peaks]) => Object.keys(peaks)))];
  push(`| group | ${names.map(processName).join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
  for (const [group, peaks] of groups) push(`| ${group} | ${names.map((name) => fmt(peaks[name])).join(' | ')} |`);
  push('');

  push('## Phase durations', '', '| phase | seconds |', '|---|---|');
  for (const [phase, seconds] of Object.entries(report.phase_seconds)) push(`| ${phase} | ${fmt(seconds, 0)} |`);
  push('');

  push('## Tunings', '', '```json', JSON.stringify(report.tunings, null, 2), '```', '');
  return lines.join('\n');
}

function tail(completion: {
  closed_50pct_s: number | null;
  closed_90pct_s: number | null;
  closed_99pct_s: number | null;
  seconds: number;
}): string {
  return `${fmt(completion.closed_50pct_s)} / ${fmt(completion.closed_90pct_s)} / ${fmt(completion.closed_99pct_s)} / ${fmt(completion.seconds)} s`;
}

function storeRange(window: GrowthWindow): string {
  return `${fmt(window.stored_before, 0)}–${fmt(window.stored_after, 0)} events`;
}

function pair(stats: { p50_ms: number; p99_ms: number }): string {
  return `${fmt(stats.p50_ms, 2)} / ${fmt(stats.p99_ms, 2)}`;
}

function loadLabel(load: LoadResult): string {
  return load.offered_rate
    ? `${fmt(load.offered_rate, 0)}/s for ${fmt(load.duration_s, 0)} s`
    : `closed, ${fmt(load.duration_s, 0)} s`;
}

function loadSummary(load: LoadResult): string {
  return `${fmt(load['2xx'], 0)} 2xx, ${fmt(load.non2xx, 0)} non-2xx, ${fmt(load.errors, 0)} errors in ${fmt(load.duration_s, 1)} s, ${fmt(load.ok_rps)}/s, p50 ${fmt(load.p50_ms)} ms, p99 ${fmt(load.p99_ms)} ms`;
}

function processName(name: string): string {
  const names: Record<string, string> = {
    receiver: 'receiver',
    worker: 'worker',
    temporal: 'Temporal dev server',
    ferretdb: 'FerretDB',
    bench: 'benchmark (load generator)',
    baseline: 'Stripe docs handler',
    other: 'other processes on the machine',
  };
  return names[name] ?? name;
}
