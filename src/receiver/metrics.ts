import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ReceiverMetrics {
  registry: Registry;
  webhooks: Counter<'result'>;
  webhookDuration: Histogram<'result'>;
  starts: Counter<'result'>;
  startLag: Histogram;
  bodiesWaited: Counter;
}

/** Live values read when Prometheus scrapes. */
export interface ReceiverGauges {
  startBacklog(): number;
  startsInFlight(): number;
  startLimit(): number;
  intakeWaiting(): number;
  bodyBytesInFlight(): number;
  bodiesWaiting(): number;
}

/** A registry per app instance, so tests and several apps in one process never collide. */
export function createReceiverMetrics(gauges: ReceiverGauges): ReceiverMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookflow_' });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge('hookflow_workflow_start_backlog', 'Acknowledged events whose workflow start is queued in this receiver', () =>
    gauges.startBacklog(),
  );
  gauge('hookflow_workflow_starts_in_flight', 'Workflow starts this receiver is making right now', () =>
    gauges.startsInFlight(),
  );
  gauge(
    'hookflow_workflow_start_limit',
    'Workflow starts this receiver may have in flight now (lowered while acknowledgements are slow)',
    () => gauges.startLimit(),
  );
  gauge('hookflow_intake_waiting', 'Deliveries waiting for their group commit', () => gauges.intakeWaiting());
  gauge('hookflow_webhook_body_bytes_in_flight', 'Declared body bytes of deliveries being read or stored', () =>
    gauges.bodyBytesInFlight(),
  );
  gauge('hookflow_webhook_bodies_waiting', 'Deliveries waiting unread for room in WEBHOOK_INFLIGHT_BYTES', () =>
    gauges.bodiesWaiting(),
  );
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
    bodiesWaited: new Counter({
      name: 'hookflow_webhook_bodies_waited_total',
      help: 'Deliveries that waited unread for room in WEBHOOK_INFLIGHT_BYTES',
      registers: [registry],
    }),
    starts: new Counter({
      name: 'hookflow_workflow_starts_total',
      help: 'Workflow starts after acknowledgement: started, failed (left to the reconciler), deferred (queue full)',
      labelNames: ['result'],
      registers: [registry],
    }),
    startLag: new Histogram({
      name: 'hookflow_workflow_start_lag_seconds',
      help: 'Time from acknowledging an event to its workflow being started',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
  };
}
