import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { deliveryHeaders, type EventGenerator, type GeneratedEvent } from './events';
import { round, type LoadResult } from './load';
import { nearestRank } from './percentile';

/**
 * Open-model load: request i is due at `i / rate` seconds after the start, whether or not earlier
 * ones were answered — arrivals like Stripe's, which does not wait for one delivery's answer before
 * sending the next. Each latency is measured from the request's *scheduled* time to the end of its
 * answer, so time spent queued behind busy connections counts (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: it gives each connection a quota per second and lets it send
 * that quota back to back at the top of every second, so "1,000/s over 250 connections" arrives as
 * a burst of 250 concurrent requests each second — it measured Stripe's docs handler (verify + 200)
 * at p99 104 ms at 1,000/s where evenly spaced arrivals see a few ms.
 *
 * Every signed event is built before the clock starts, so the generator's own work (JSON, HMAC)
 * does not compete for the cores with the server it measures.
 */
export interface OpenLoadOptions {
  url: string;
  /** Built with `buildEvents` before the measured run; one request each, in order. */
  events: readonly GeneratedEvent[];
  /** Requests per second. */
  rate: number;
  /** Most connections the client opens; requests beyond them wait in the client (and that wait counts). */
  connections: number;
  /** Per-request bound on the answer, ms. */
  timeoutMs?: number;
}

/** How often the scheduler wakes to send what is due: 1 ms keeps arrivals within a couple of ms of even. */
const TICK_MS = 1;

/** The signed events of one open-model run, built up front (`amount`, or `rate × durationS`). */
export function buildEvents(
  generator: EventGenerator,
  load: { rate: number; amount?: number; durationS?: number },
): GeneratedEvent[] {
  const amount = load.amount ?? Math.round(load.rate * (load.durationS ?? 10));
  return Array.from({ length: amount }, () => generator.next());
}

export async function runOpenLoad(options: OpenLoadOptions): Promise<LoadResult> {
  const { events } = options;
  const amount = events.length;

  const url = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pool = new Pool(url.origin, {
    connections: options.connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  let sent = 0;

  const send = async (event: GeneratedEvent, scheduledAt: number): Promise<void> => {
    try {
      const answer = await pool.request({
        method: 'POST',
        path: url.pathname,
        body: event.body,
        headers: deliveryHeaders(event),
      });
      await answer.body.dump();
      const code = String(answer.statusCode);
      statusCodes[code] = (statusCodes[code] ?? 0) + 1;
      if (answer.statusCode >= 200 && answer.statusCode < 300) {
        ok++;
        latencies.push(performance.now() - scheduledAt);
        timeline?.push([Math.round(scheduledAt - startedAt), Math.round(performance.now() - scheduledAt)]);
      } else {
        non2xx++;
      }
    } catch (error) {
      errors++;
      if ((error as { code?: string }).code?.includes('TIMEOUT')) timeouts++;
    }
  };

  // HOOKFLOW_BENCH_LATENCY_DIR=<dir>: every answered request's [scheduled ms after start, latency ms]
  // to <dir>/open-<rate>-<time>.json, to see when in a step the slow answers came (diagnosis only).
  const timelineDir = process.env.HOOKFLOW_BENCH_LATENCY_DIR;
  const timeline: Array<[number, number]> | undefined = timelineDir ? [] : undefined;
  const inFlight: Array<Promise<void>> = [];
  const startedAt = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(amount, Math.floor(((performance.now() - startedAt) * options.rate) / 1000) + 1);
      while (sent < due) {
        const scheduledAt = startedAt + (sent * 1000) / options.rate;
        inFlight.push(send(events[sent]!, scheduledAt));
        sent++;
      }
      if (sent >= amount) resolve();
      else setTimeout(tick, TICK_MS);
    };
    tick();
  });
  await Promise.all(inFlight);
  const durationS = (performance.now() - startedAt) / 1000;
  await pool.close();
  if (timelineDir && timeline) {
    mkdirSync(timelineDir, { recursive: true });
    writeFileSync(join(timelineDir, `open-${options.rate}-${Date.now()}.json`), JSON.stringify(timeline));
  }

  latencies.sort((a, b) => a - b);
  const percentile = (p: number): number => Math.round(nearestRank(latencies, p));
  const responses = ok + non2xx;
  return {
    model: 'open',
    offered_rate: options.rate,
    connections: options.connections,
    duration_s: round(durationS, 2),
    sent,
    responses,
    '2xx': ok,
    non2xx,
    errors,
    timeouts,
    rps: round(responses / durationS),
    ok_rps: round(ok / durationS),
    p50_ms: percentile(50),
    p90_ms: percentile(90),
    p99_ms: percentile(99),
    max_ms: latencies.length === 0 ? 0 : Math.round(latencies[latencies.length - 1]!),
    mean_ms: round(latencies.reduce((sum, value) => sum + value, 0) / Math.max(1, latencies.length), 2),
    status_codes: statusCodes,
  };
}
