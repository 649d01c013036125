import {
  ApplicationFailure,
  log,
  proxyActivities,
  proxyLocalActivities,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type {
  BusinessActivities,
  BusinessResult,
  EventActivities,
  EventRef,
  ProcessResult,
  ThinEventActivities,
} from '../activities/types';
import { businessHandlerOf, CLERK_HANDLERS, clerkTaskQueue } from '../src/contracts';
import { dispatchOutbound, enqueuePreparedOutbound } from './outbound-dispatch';
import { HookflowOutcome } from './search-attributes';

// Transient database trouble is retried with backoff for about half an hour; after that the event
// is marked failed so support can see it and re-run it (a failed run may be started again under
// the same workflow id: ALLOW_DUPLICATE_FAILED_ONLY). If even that write fails, the event stays
// `processing` and the worker's reconciler starts it again. Non-retryable failures stop at once.
const DATABASE_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 36,
};

// Local activities: short database work in the worker process, recorded as markers instead of
// scheduled tasks, so an event costs fewer history events and round trips through the (single
// shard, SQLite) dev server — `node dist/bench/cost-probe.js` counts both per event type.
const { applyEventToState, recordEventOutcome } = proxyLocalActivities<EventActivities>({
  startToCloseTimeout: '1 minute',
  retry: DATABASE_RETRY,
});

// Recording a failure must not itself give up: an event left without an outcome would look
// in flight forever. Retried with backoff until the database answers (Temporal keeps the timer).
const { recordEventOutcome: recordFailureOutcome } = proxyLocalActivities<EventActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

// Cases and payment sessions touch only the database: local activities too (a marker instead of
// three history events and a task-queue round trip each).
const business = proxyLocalActivities<BusinessActivities>({ startToCloseTimeout: '1 minute', retry: DATABASE_RETRY });

// Thin notifications: the object is fetched from the Stripe API by a (visible, retried) activity.
// A 5xx, 429 or timeout is retried with backoff for about a quarter of an hour; a missing key or a
// 4xx is non-retryable and fails the event with the reason, to be re-run once it is fixed.
const { fetchThinEvent } = proxyActivities<ThinEventActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

export interface ProcessEventResult extends ProcessResult {
  business: BusinessResult | null;
}

/**
 * One run per Stripe event (workflow id `stripe-event:<tenant>:<event id>`). The event travels by
 * reference: activities read the stored raw body, so payloads never enter workflow history.
 * Order: object state, then the business handler of the type, then its outbound messages, then the
 * outcome. Without outbound messages to queue or a Clerk call to make, all of it is one local
 * activity; the outcome goes to the HookflowOutcome search attribute.
 */
export async function processStripeEvent(ref: EventRef): Promise<ProcessEventResult> {
  let type: string | undefined;
  try {
    if (ref.thin) await fetchThinEvent(ref);
    // A business handler that ran in the state's activity left only its messages to queue; one that
    // did not (Clerk queue, or a run recorded before handlers ran there) runs now as its own activity.
    const { outbound = [], business = null, ...state } = await applyEventToState(ref);
    type = state.type;
    let handled = business;
    if (handled) {
      await enqueuePreparedOutbound(outbound);
    } else if (!state.recorded) {
      handled = await runBusinessHandler(ref, state);
    }
    const outcome = handled?.outcome ?? state.outcome;
    if (!state.recorded) {
      await recordEventOutcome({
        ...ref,
        type,
        status: 'processed',
        outcome,
        error: null,
        reason: handled?.reason ?? null,
      });
    }
    upsertSearchAttributes([{ key: HookflowOutcome, value: outcome }]);
    return { ...state, business: handled };
  } catch (error) {
    const message = failureMessage(error);
    log.warn('event processing failed', { eventId: ref.eventId, error: message });
    await recordFailureOutcome({ ...ref, type, status: 'failed', outcome: 'failed', error: message });
    upsertSearchAttributes([{ key: HookflowOutcome, value: 'failed' }]);
    throw error;
  }
}

async function runBusinessHandler(ref: EventRef, state: ProcessResult): Promise<BusinessResult | null> {
  const handler = businessHandlerOf(state.type);
  if (!handler) return null;
  // A tenant without Clerk gets no Clerk request: its Clerk handler runs locally, unthrottled.
  const viaClerkQueue = CLERK_HANDLERS.includes(handler) && state.clerkConfigured !== false;
  const activities = viaClerkQueue ? clerkActivities() : business;
  const result = await activities[handler](ref);
  for (const message of result.outbound) {
    await dispatchOutbound({
      tenantId: ref.tenantId,
      stripeEventId: ref.eventId,
      stripeEventCreated: state.created,
      objectId: message.objectId,
      type: message.type,
      payload: message.data,
    });
  }
  return result;
}

/**
 * Clerk calls run on their own task queue, whose worker is rate limited to Clerk's API limits.
 * A missing checkout link (`OrganizationLinkPending`) and 429s retry with their own delays, so the
 * budget is a day rather than a count; Clerk 4xx rejections are non-retryable and fail at once.
 */
function clerkActivities() {
  return proxyActivities<BusinessActivities>({
    taskQueue: clerkTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '24 hours',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
  });
}

function failureMessage(error: unknown): string {
  // An ActivityFailure wraps the activity's own ApplicationFailure: its message is the useful one.
  let current: unknown = error;
  while (current instanceof Error && (current as { cause?: unknown }).cause instanceof Error) {
    current = (current as { cause: Error }).cause;
  }
  if (current instanceof ApplicationFailure && current.type) return `${current.type}: ${current.message}`;
  return current instanceof Error ? current.message : String(current);
}
