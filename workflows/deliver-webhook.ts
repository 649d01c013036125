import { ApplicationFailure, log, proxyActivities, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import type {
  AttemptOutcome,
  DeliverWebhookInput,
  DeliverWebhookResult,
  DeliveryOutcome,
  DeliveryPlan,
  OutboundActivities,
} from '../activities/types';
import type { HookflowOutcomeValue } from '../src/contracts';
import { HookflowOutcome } from './search-attributes';

// One attempt is one activity run and nothing more: a Temporal retry would be an extra, unscheduled
// HTTP request. The start-to-close timeout only has to cover the HTTP timeout (≤ 60 s) plus two writes.
const { attemptWebhookDelivery } = proxyActivities<OutboundActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { maximumAttempts: 1 },
});

// Bookkeeping writes are idempotent, so Temporal may retry them through a database blip.
const { beginWebhookDelivery, markWebhookDelivered, markWebhookFailed, disableWebhookEndpoint } =
  proxyActivities<OutboundActivities>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
  });

/**
 * Delivers one message to one endpoint (workflow id `outbound-delivery:<message id>`), following
 * Standard Webhooks: first attempt at once, then one attempt after each delay of the schedule
 * (durable timers, jittered, never shorter than the endpoint's `Retry-After`); 2xx delivers,
 * 410 Gone disables the endpoint, anything else — 3xx included — is a failed attempt. After the
 * schedule the message is marked failed. The `webhook-id` (the message id) is the same every time.
 *
 * A delivery that gave up still completes (its result says `failed`), but its `HookflowOutcome`
 * search attribute says `delivery_failed`, so operators find every undelivered message with one
 * Temporal UI filter; failing the workflow instead would also fail the sequence's child call and
 * look like a bug in hookflow rather than a merchant that is down.
 */
export async function deliverWebhook(input: DeliverWebhookInput): Promise<DeliverWebhookResult> {
  const result = await deliver(input);
  upsertSearchAttributes([{ key: HookflowOutcome, value: OUTCOME_ATTRIBUTE[result.outcome] }]);
  return result;
}

/** What the `HookflowOutcome` search attribute of a delivery workflow says about its result. */
const OUTCOME_ATTRIBUTE: Record<DeliveryOutcome, HookflowOutcomeValue> = {
  delivered: 'delivered',
  failed: 'delivery_failed',
  endpoint_disabled: 'endpoint_disabled',
  skipped: 'delivery_skipped',
};

async function deliver(input: DeliverWebhookInput): Promise<DeliverWebhookResult> {
  const { message, plan } = input;
  const { messageId, endpointId } = message;
  const begin = await beginWebhookDelivery(messageId);
  if (!begin.deliver) {
    log.info('outbound message not delivered', { messageId, reason: begin.reason });
    return { messageId, outcome: 'skipped', attempts: 0 };
  }

  for (let step = 0; ; step++) {
    const result = await attempt(messageId, begin.attemptsSoFar + step + 1);
    const attempts = step + 1;
    if (result.outcome === 'delivered') {
      await markWebhookDelivered(messageId);
      return { messageId, outcome: 'delivered', attempts };
    }
    if (result.outcome === 'gone') {
      await disableWebhookEndpoint({ endpointId, messageId, reason: 'endpoint answered 410 Gone' });
      return { messageId, outcome: 'endpoint_disabled', attempts };
    }
    if (result.outcome === 'skipped') return { messageId, outcome: 'skipped', attempts };
    if (step >= plan.retryScheduleMs.length) {
      await markWebhookFailed({ messageId, error: `gave up after ${attempts} attempts: ${describe(result)}` });
      return { messageId, outcome: 'failed', attempts };
    }
    await sleep(retryDelay(plan, step, result.retryAfterMs));
  }
}

async function attempt(messageId: string, number: number): Promise<AttemptOutcome> {
  try {
    return await attemptWebhookDelivery({ messageId, attempt: number });
  } catch (error) {
    // The activity itself broke (worker lost, database down): that attempt failed like any other.
    const cause = error instanceof Error && error.cause instanceof ApplicationFailure ? error.cause : error;
    return { outcome: 'failed', statusCode: null, error: cause instanceof Error ? cause.message : String(cause) };
  }
}

/**
 * The schedule's delay for this step with ±jitter (Math.random is deterministic inside workflows),
 * raised to `Retry-After` when the endpoint asked for more time (capped by the plan).
 */
function retryDelay(plan: DeliveryPlan, step: number, retryAfterMs: number | undefined): number {
  const base = plan.retryScheduleMs[step] ?? 0;
  const jittered = base * (1 + plan.jitterRatio * (Math.random() * 2 - 1));
  const asked = Math.min(retryAfterMs ?? 0, plan.maxRetryAfterMs);
  return Math.max(1, Math.round(Math.max(jittered, asked)));
}

function describe(outcome: AttemptOutcome): string {
  return outcome.statusCode !== null ? `HTTP ${outcome.statusCode}` : (outcome.error ?? 'no response');
}
