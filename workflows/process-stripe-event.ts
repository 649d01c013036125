import { ApplicationFailure, log, proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { EventActivities, EventRef, ProcessResult } from '../activities/types';
import { HookflowOutcome } from './search-attributes';

const { applyEventToState, recordEventOutcome } = proxyActivities<EventActivities>({
  startToCloseTimeout: '1 minute',
  // Transient database trouble is retried with backoff for a few minutes; after that the event is
  // marked failed so support can see it and re-run it (a failed run may be started again under the
  // same workflow id: ALLOW_DUPLICATE_FAILED_ONLY).
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

/**
 * One run per Stripe event (workflow id `stripe-event:<tenant>:<event id>`). The event travels by
 * reference: activities read the stored raw body, so payloads never enter workflow history.
 */
export async function processStripeEvent(ref: EventRef): Promise<ProcessResult> {
  try {
    const result = await applyEventToState(ref);
    await recordEventOutcome({ ...ref, status: 'processed', outcome: result.outcome, error: null });
    upsertSearchAttributes([{ key: HookflowOutcome, value: result.outcome }]);
    return result;
  } catch (error) {
    const message = failureMessage(error);
    log.warn('event processing failed', { eventId: ref.eventId, error: message });
    await recordEventOutcome({ ...ref, status: 'failed', outcome: 'failed', error: message });
    upsertSearchAttributes([{ key: HookflowOutcome, value: 'failed' }]);
    throw error;
  }
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
