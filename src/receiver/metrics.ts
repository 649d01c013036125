import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface ReceiverMetrics {
  registry: Registry;
  webhooks: Counter<'result'>;
  webhookDuration: Histogram<'result'>;
}

/** A registry per app instance, so tests and several apps in one process never collide. */
export function createReceiverMetrics(): ReceiverMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookflow_' });
  return {
    registry,
    webhooks: new Counter({
      name: 'hookflow_webhooks_total',
      help: 'Stripe deliveries by result (accepted, duplicate, or the error code)',
      labelNames: ['result'],
      registers: [registry],
    }),
    webhookDuration: new Histogram({
      name: 'hookflow_webhook_duration_seconds',
      help: 'Time from request to response for Stripe deliveries',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
