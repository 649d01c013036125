import { Counter, type Registry } from 'prom-client';
import type { OutboundObserver } from './outbound-deps';

/**
 * `hookflow_outbound_attempts_total{result}`: every HTTP attempt of an outbound webhook, counted by
 * the worker that made it. A rising `failed` against a flat `delivered` is a merchant that is down.
 */
export function createOutboundMetrics(registry: Registry): OutboundObserver {
  const attempts = new Counter({
    name: 'hookflow_outbound_attempts_total',
    help: 'Outbound webhook attempts by result: delivered (2xx), failed, gone (410 disabled the endpoint), skipped (endpoint disabled)',
    labelNames: ['result'],
    registers: [registry],
  });
  // Present from the first scrape, so a rate() over them is defined before the first delivery.
  for (const result of ['delivered', 'failed', 'gone', 'skipped']) attempts.inc({ result }, 0);
  return { attempt: (result) => attempts.inc({ result }) };
}
