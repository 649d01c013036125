import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { summarizeEvent } from '../stripe/event-summary';
import { verifyStripeDelivery } from '../stripe/verify-delivery';
import { eventWorkflowId } from '../contracts';
import type { EventIntake } from './event-intake';
import { VERSION } from '../version';
import type { ReceiverMetrics } from './metrics';
import { readRawBody } from './raw-body';
import type { StripeEnvironment, TenantResolver, TenantSelector } from './tenants';

export interface StripeWebhookDeps {
  resolveTenant: TenantResolver;
  intake: EventIntake;
  log: Logger;
  metrics: ReceiverMetrics;
  bodyLimitBytes: number;
  toleranceSeconds: number;
}

/**
 * `POST /webhooks/stripe`: verify on raw bytes, record durably (group commit), answer; the event's
 * workflow is started after the answer (intake → starter), so Stripe never waits on Temporal.
 * Business work never happens here: Stripe wants a fast 2xx, and Temporal owns the retries.
 */
export function createStripeWebhookRouter(deps: StripeWebhookDeps): Router {
  const router = new Router();

  const receive = async (ctx: Context) => {
    const stopTimer = deps.metrics.webhookDuration.startTimer();
    let result = 'internal_error';
    try {
      const tenant = await deps.resolveTenant(selectorOf(ctx));
      const rawBody = await readRawBody(ctx, deps.bodyLimitBytes);
      const event = verifyStripeDelivery(
        rawBody,
        ctx.get('stripe-signature') || undefined,
        tenant.secrets,
        deps.toleranceSeconds,
      );
      ctx.state.eventId = event.id;
      if (tenant.environment && event.livemode !== (tenant.environment === 'live')) {
        // A secret stored under the wrong environment would otherwise mix test and live data.
        throw new AppError(
          400,
          'environment_mismatch',
          `A ${event.livemode ? 'live' : 'test'}-mode event was delivered to environment=${tenant.environment}.`,
        );
      }
      const summary = summarizeEvent(event);
      const workflowId = eventWorkflowId(tenant.tenantId, event.id);

      let recorded;
      try {
        recorded = await deps.intake.submit({
          tenantId: tenant.tenantId,
          summary,
          rawBody: rawBody.toString('utf8'),
          workflowId,
        });
      } catch (error) {
        deps.log.error({ err: error, eventId: event.id }, 'could not store event; answering 503 so Stripe retries');
        throw new AppError(503, 'store_unavailable', 'The event could not be stored durably; Stripe will retry.', true);
      }
      result = recorded.duplicate ? 'duplicate' : 'accepted';
      deps.log.info(
        { eventId: event.id, type: event.type, tenantId: tenant.tenantId, duplicate: recorded.duplicate },
        'stripe event received',
      );
      ctx.body = { received: true, eventId: event.id, workflowId, duplicate: recorded.duplicate };
    } catch (error) {
      result = error instanceof AppError ? error.code : 'internal_error';
      throw error;
    } finally {
      deps.metrics.webhooks.inc({ result });
      stopTimer({ result });
    }
  };

  router.post('/webhooks/stripe', receive);
  router.post('/webhooks/stripe/:tenant', receive);
  router.get('/webhooks/stripe', (ctx) => {
    ctx.body = {
      version: VERSION,
      pipeline: ['verify-signature', 'store-event', 'start-workflow:processStripeEvent'],
    };
  });
  return router;
}

function selectorOf(ctx: Context): TenantSelector {
  const environment = queryParam(ctx, 'environment');
  if (environment !== undefined && environment !== 'live' && environment !== 'sandbox') {
    throw new AppError(400, 'invalid_environment', "environment must be 'live' or 'sandbox'.");
  }
  return {
    tenant: (ctx.params as { tenant?: string }).tenant ?? queryParam(ctx, 'org_id'),
    environment: environment as StripeEnvironment | undefined,
    apiKey: queryParam(ctx, 'api_key'),
  };
}

function queryParam(ctx: Context, name: string): string | undefined {
  const value = ctx.query[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}
