import autocannon from 'autocannon';
import { deliveryHeaders, type EventGenerator } from './events';

/**
 * One autocannon run against a webhook URL with fresh signed events per request. Either closed
 * (fixed `connections`, as fast as answered) or open (`rate` requests/s across all connections,
 * autocannon `overallRate`). Latencies are the raw response times of 2xx answers
 * (`ignoreCoordinatedOmission`: autocannon's correction assumes a 1 ms interval per connection and
 * would fill the histogram with made-up samples).
 */
export interface LoadOptions {
  url: string;
  generator: EventGenerator;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  durationS?: number;
  amount?: number;
  /** Requests per second over all connections (open model). */
  rate?: number;
}

export interface LoadResult {
  model: 'closed' | 'open';
  offered_rate: number | null;
  connections: number;
  duration_s: number;
  sent: number;
  responses: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Answered requests (any status) per second over the run. */
  rps: number;
  /** 2xx answers per second over the run. */
  ok_rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  status_codes: Record<string, number>;
}

/**
 * Connections for an open-model rate: enough that a connection waits for its answer rarely
 * (rate/4 keeps the offered rate up to ~250 ms latency), within what one loopback client handles.
 */
export function connectionsForRate(rate: number): number {
  return Math.max(10, Math.min(500, Math.round(rate / 4)));
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { generator } = options;
  const path = new URL(options.url).pathname;
  const generatedBefore = generator.generated;
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS ?? 10 }),
    ...(options.rate ? { overallRate: options.rate, ignoreCoordinatedOmission: true } : {}),
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (request) => {
          const event = generator.next();
          return {
            ...request,
            method: 'POST',
            path,
            body: event.body,
            headers: deliveryHeaders(event),
          };
        },
      },
    ],
  });
  const responses = result['1xx'] + result['2xx'] + result['3xx'] + result['4xx'] + result['5xx'];
  const duration = result.duration || 1;
  return {
    model: options.rate ? 'open' : 'closed',
    offered_rate: options.rate ?? null,
    connections: result.connections,
    duration_s: round(duration, 2),
    // autocannon's own `requests.sent` over-counts under overallRate; every request written was built by
    // the generator first (with `amount`, exactly one per request; with `duration`, at most one more per connection).
    sent: generator.generated - generatedBefore,
    responses,
    '2xx': result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: round(responses / duration),
    ok_rps: round(result['2xx'] / duration),
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    mean_ms: round(result.latency.average, 2),
    status_codes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, stats.count ?? 0]),
    ),
  };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function describeLoad(result: LoadResult): string {
  const offered = result.offered_rate ? `${result.offered_rate}/s offered` : `${result.connections} connections`;
  return (
    `${offered}: ${result['2xx']} 2xx, ${result.non2xx} non-2xx, ${result.errors} errors in ${result.duration_s} s → ` +
    `${result.ok_rps}/s; p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms`
  );
}
