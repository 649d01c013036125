import Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { summarizeEvent, type EventSummary } from '../stripe/event-summary';
import { verifyStripeDelivery } from '../stripe/verify-delivery';
import { eventWorkflowId } from '../contracts';
import type { EventIntake } from './event-intake';
import type { ReceivedEvent, RecordedEvent } from '../stores/event-store';
import { checkEventLimits } from '../stripe/event-limits';
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
  /** How long a delivery may keep retrying a transient store error before answering 503. */
  storeRetryBudgetMs: number;
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
      const { body, summary } = verifyAndSummarize(
        await readRawBody(ctx, deps.bodyLimitBytes),
        ctx.get('stripe-signature') || undefined,
        tenant.secrets,
        deps.toleranceSeconds,
      );
      const event = { id: summary.eventId, type: summary.type, livemode: summary.livemode };
      if (tenant.environment && event.livemode !== (tenant.environment === 'live')) {
        // A secret stored under the wrong environment would otherwise mix test and live data.
        throw new AppError(
          400,
          'environment_mismatch',
          `A ${event.livemode ? 'live' : 'test'}-mode event was delivered to environment=${tenant.environment}.`,
        );
      }
      // Refused before anything is stored: an acknowledged event must be one the worker can process.
      checkEventLimits(tenant.tenantId, summary);
      ctx.state.eventId = event.id;
      const workflowId = eventWorkflowId(tenant.tenantId, event.id);

      let recorded;
      try {
        recorded = await submitWithRetry(deps, { tenantId: tenant.tenantId, summary, rawBody: body, workflowId });
      } catch (error) {
        deps.log.error(
          { error: storeErrorSummary(error), eventId: event.id },
          'could not store event; answering 503 so Stripe retries',
        );
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

/**
 * The text to store and the facts routing needs — nothing else of the delivery. Kept apart from
 * `receive` so the raw bytes and the parsed event are garbage as soon as it returns, instead of
 * living (and surviving young-generation collections) while the delivery waits for its group
 * commit: at 1,000 deliveries/s a few hundred wait at any moment.
 */
function verifyAndSummarize(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
): { body: string; summary: EventSummary } {
  const verified = verifyStripeDelivery(rawBody, signatureHeader, secrets, toleranceSeconds);
  // A thin notification takes the same path: stored as received, its object fetched by an activity.
  const summary = summarizeEvent(verified.kind === 'thin' ? verified.notification : verified.event);
  return { body: verified.body, summary };
}

/**
 * A group commit that fails on a transient store error (SQLite's `database is locked`, a dropped
 * connection) is tried again with backoff while the request budget lasts: a retry that succeeds
 * answers 200 where the first failure would have cost a 503 and a Stripe redelivery. A retried
 * batch is harmless: the events' unique ids make a second insert a duplicate, and an extra inbox
 * entry only makes the reconciler confirm starts that already happened.
 */
async function submitWithRetry(deps: StripeWebhookDeps, item: ReceivedEvent): Promise<RecordedEvent> {
  const deadline = Date.now() + deps.storeRetryBudgetMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await deps.intake.submit(item);
    } catch (error) {
      const delayMs = Math.min(50 * 2 ** attempt, 800) * (0.5 + Math.random());
      if (!isTransientStoreError(error) || Date.now() + delayMs > deadline) throw error;
      deps.log.warn(
        { error: storeErrorSummary(error), eventId: item.summary.eventId, attempt },
        'transient store error; retrying the write',
      );
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * Name, code and message only: a driver's write error carries the documents it failed to write
 * (`writeErrors[].op`), and a stored document holds the raw body, which is never logged.
 */
function storeErrorSummary(error: unknown): { name?: string; code?: unknown; message: string } {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 500) };
  return { name: error.name, code: (error as { code?: unknown }).code, message: error.message.slice(0, 500) };
}

const TRANSIENT_MESSAGE = /database is locked|SQLITE_BUSY|SQLITE_LOCKED|ECONNRESET|connection .* closed/i;

/** Errors a moment later may not repeat: SQLite lock contention (FerretDB) or a connection reset. */
export function isTransientStoreError(error: unknown): boolean {
  const err = error as { name?: unknown; message?: unknown; errorLabels?: unknown; errorLabelSet?: unknown };
  if (err?.name === 'MongoNetworkError') return true;
  const labels = err?.errorLabelSet instanceof Set ? [...(err.errorLabelSet as Set<string>)] : [];
  if (labels.includes('RetryableWriteError') || labels.includes('TransientTransactionError')) return true;
  return typeof err?.message === 'string' && TRANSIENT_MESSAGE.test(err.message);
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
