import Koa from 'koa';
import { createAdminUi, type AdminUiDeps } from '../admin/admin-router';
import type { Registry } from 'prom-client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { EventStore } from '../stores/event-store';
import type { StartEventWorkflowInput } from '../temporal/event-workflows';
import { createWorkflowStarter } from '../temporal/workflow-starter';
import { createStartPacer } from './start-pacer';
import { createAdminApiRouter, type AdminApiDeps } from './admin-api-router';
import { createDeliveriesApiRouter, type DeliveriesApiDeps } from './deliveries-api-router';
import { createBodyBudget } from './body-budget';
import { errorHandler } from './error-handler';
import { createEventIntake } from './event-intake';
import { createEventsApiRouter, type EventsApiDeps } from './events-api-router';
import { createHealthRouter, type ReadinessCheck } from './health-router';
import { createReceiverMetrics } from './metrics';
import { createStripeWebhookRouter } from './stripe-webhook-router';
import type { TenantResolver } from './tenants';

export interface AppDeps {
  log: Logger;
  /** A Stripe redelivery restarted failed events (the count of one group commit). */
  onRedeliveryRestart?: (count: number) => void;
  events: Pick<EventStore, 'recordBatch' | 'releaseInbox'>;
  resolveTenant: TenantResolver;
  startWorkflow: (input: StartEventWorkflowInput) => Promise<unknown>;
  readiness: Record<string, ReadinessCheck>;
  bodyLimitBytes: number;
  /** Declared webhook body bytes read at once (config WEBHOOK_INFLIGHT_BYTES; default 16 MiB). */
  bodyInFlightBytes?: number;
  toleranceSeconds: number;
  /** How long a delivery retries a transient store error before answering 503 (default 2 s). */
  storeRetryBudgetMs?: number;
  /** Group commit and start queue settings (config.intake). */
  intake: Config['intake'];
  /** Read-only support API (`/api/*`); absent in tests that need only the webhook route. */
  adminApi?: AdminApiDeps;
  /** Failed outbound deliveries: list, resend, recover (`/api/deliveries`, `/api/endpoints/:id/recover`). */
  deliveriesApi?: DeliveriesApiDeps;
  /** Events and re-runs (`/api/events`, `/api/reruns`). */
  eventsApi?: EventsApiDeps;
  /** The support web page (`/admin`): HTML, session cookie, CSRF. */
  adminUi?: AdminUiDeps;
}

export interface ReceiverApp {
  app: Koa;
  /** On shutdown: waits up to `timeoutMs` for queued workflow starts (the rest stays in the inbox). */
  drainStarts(timeoutMs: number): Promise<void>;
  /** The receiver's metrics registry (`GET /metrics`), for counters of services built outside the app. */
  registry: Registry;
}

export function createApp(deps: AppDeps): ReceiverApp {
  const app = new Koa();
  const pacer = createStartPacer({
    maxConcurrency: deps.intake.startConcurrency,
    ackTargetMs: deps.intake.startAckTargetMs,
    onRaise: () => starter.wake(),
  });
  const starter = createWorkflowStarter({
    start: deps.startWorkflow,
    release: (inboxId) => deps.events.releaseInbox(inboxId),
    log: deps.log,
    concurrency: pacer.limit,
    queueLimit: deps.intake.startQueueLimit,
    observe: {
      startLagSeconds: (seconds) => metrics.startLag.observe(seconds),
      started: (result, count) => metrics.starts.inc({ result }, count),
    },
  });
  const intake = createEventIntake({
    events: deps.events,
    starter,
    maxBatch: deps.intake.maxBatch,
    onRestarted: deps.onRedeliveryRestart,
  });
  const inFlightBytes = deps.bodyInFlightBytes ?? 16 * 1024 * 1024;
  const bodyBudget = createBodyBudget({
    maxInFlightBytes: inFlightBytes,
    maxWaitingBytes: 4 * inFlightBytes,
    bodyLimitBytes: deps.bodyLimitBytes,
    onWait: () => metrics.bodiesWaited.inc(),
    onRefuse: () => metrics.webhooks.inc({ result: 'receiver_busy' }),
  });
  const metrics = createReceiverMetrics({
    startBacklog: () => starter.backlog(),
    startsInFlight: () => starter.inFlight(),
    startLimit: () => pacer.limit(),
    intakeWaiting: () => intake.waiting(),
    bodyBytesInFlight: () => bodyBudget.inFlightBytes(),
    bodiesWaiting: () => bodyBudget.waiting(),
  });
  app.use(errorHandler(deps.log));
  const webhooks = createStripeWebhookRouter({
    ...deps,
    intake,
    metrics,
    storeRetryBudgetMs: deps.storeRetryBudgetMs ?? 2_000,
  });
  const health = createHealthRouter(deps.readiness, metrics.registry, deps.log, () => ({
    backlog: starter.backlog(),
    inFlight: starter.inFlight(),
    limit: pacer.limit(),
    queueLimit: deps.intake.startQueueLimit,
  }));
  if (deps.adminUi) app.use(createAdminUi(deps.adminUi));
  // Only deliveries are budgeted (the support API and page must stay usable during a storm) and
  // timed for the start pacer: from the request to its answer, waiting for the budget included.
  app.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !ctx.path.startsWith('/webhooks/stripe')) return next();
    const begin = performance.now();
    try {
      await bodyBudget.middleware(ctx, next);
    } finally {
      pacer.observe(performance.now() - begin);
    }
  });
  app.use(webhooks.routes()).use(webhooks.allowedMethods());
  app.use(health.routes()).use(health.allowedMethods());
  if (deps.adminApi) {
    const admin = createAdminApiRouter(deps.adminApi);
    app.use(admin.routes()).use(admin.allowedMethods());
  }
  if (deps.deliveriesApi) {
    const deliveries = createDeliveriesApiRouter(deps.deliveriesApi);
    app.use(deliveries.routes()).use(deliveries.allowedMethods());
  }
  if (deps.eventsApi) {
    const events = createEventsApiRouter(deps.eventsApi);
    app.use(events.routes()).use(events.allowedMethods());
  }
  app.on('error', (error: unknown) => deps.log.error({ err: error }, 'koa error'));
  const drainStarts = (timeoutMs: number) => {
    // Shutting down: no more answers to protect, so the queued starts go at full concurrency.
    pacer.stop();
    starter.wake();
    return starter.drain(timeoutMs);
  };
  return { app, drainStarts, registry: metrics.registry };
}
