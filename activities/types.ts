/** Contracts between workflows and activities; workflows import this file for types only. */
import type { EventRef, HookflowOutcomeValue, StateOutcome } from '../src/contracts';
import type { BusinessResult } from './business-types';
import type { OutboundMessageRef } from './outbound-types';

export type { EventRef, StateOutcome } from '../src/contracts';

export interface ProcessResult {
  outcome: StateOutcome;
  /** Stripe event type and `created`, read from the stored event (the workflow input is only a reference). */
  type: string;
  created: number;
  resource: string;
  objectId: string | null;
  children: number;
  /**
   * The event's outcome is recorded already: a type without a business handler, or whose handler
   * ran in the same activity and left no outbound message to queue, is finished by this one local
   * activity.
   */
  recorded: boolean;
  /**
   * Only for types handled by Clerk: whether the tenant has a Clerk key. Without one the handler
   * sends no Clerk request, so the workflow runs it as a local activity rather than through the
   * Clerk queue, whose rate limit exists for Clerk's API (measured: 800 such events in a 5,000-event
   * mix waited ~200 s on a 4/s limit that guarded no request). Absent in results recorded before
   * this field existed, which keeps their replay on the Clerk queue.
   */
  clerkConfigured?: boolean;
}

export interface EventOutcome extends EventRef {
  /** Stripe event type, for hookflow_events_processed_total (absent when the failure came before it was read). */
  type?: string;
  status: 'processed' | 'failed';
  outcome: HookflowOutcomeValue;
  error: string | null;
  /** Why this outcome, when the value alone does not say (BusinessResult.reason). */
  reason?: string | null;
}

/**
 * `applyEventToState`: the object state and, in the same local activity, the business handler of
 * the type unless it runs on the Clerk queue, with its outbound messages stored for queueing.
 */
export interface EventProcessing extends ProcessResult {
  /**
   * The handler's result when it ran in the activity; null when the type has none or the workflow
   * runs it. Absent in results recorded before the handler ran here: their replay runs it as before.
   */
  business?: BusinessResult | null;
  /** Per outbound message of the handler, its stored copies to queue (one per subscribed endpoint). */
  outbound?: OutboundMessageRef[][];
}

export interface EventActivities {
  applyEventToState(ref: EventRef): Promise<EventProcessing>;
  recordEventOutcome(outcome: EventOutcome): Promise<void>;
}
export type * from './outbound-types';
export type * from './business-types';
export type * from './bulk-rerun-types';
export type * from './stripe-types';
export type * from './thin-event-types';
