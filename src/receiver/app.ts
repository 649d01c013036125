import Koa from 'koa';
import type { EventLedger } from '../stores/event-store';
import type { Logger } from '../logger';
import type { StartEventWorkflowInput } from '../temporal/event-workflows';
import { createAdminApiRouter, type AdminApiDeps } from './admin-api-router';
import { errorHandler } from './error-handler';
import { createHealthRouter, type ReadinessCheck } from './health-router';
import { createReceiverMetrics } from './metrics';
import { createStripeWebhookRouter } from './stripe-webhook-router';
import type { TenantResolver } from './tenants';

export interface AppDeps {
  log: Logger;
  ledger: EventLedger;
  resolveTenant: TenantResolver;
  startWorkflow: (input: StartEventWorkflowInput) => Promise<unknown>;
  readiness: Record<string, ReadinessCheck>;
  bodyLimitBytes: number;
  toleranceSeconds: number;
  startWaitMs: number;
  /** Read-only support API (`/api/*`); absent in tests that need only the webhook route. */
  adminApi?: AdminApiDeps;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  const metrics = createReceiverMetrics();
  app.use(errorHandler(deps.log));
  const webhooks = createStripeWebhookRouter({ ...deps, metrics });
  const health = createHealthRouter(deps.readiness, metrics.registry, deps.log);
  app.use(webhooks.routes()).use(webhooks.allowedMethods());
  app.use(health.routes()).use(health.allowedMethods());
  if (deps.adminApi) {
    const admin = createAdminApiRouter(deps.adminApi);
    app.use(admin.routes()).use(admin.allowedMethods());
  }
  app.on('error', (error: unknown) => deps.log.error({ err: error }, 'koa error'));
  return app;
}
