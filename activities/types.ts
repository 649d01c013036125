/** Contracts between workflows and activities; workflows import this file for types only. */

export interface EventRef {
  tenantId: string;
  eventId: string;
}

/**
 * What happened to the object state: `applied` (newest change stored), `stale` (an older event
 * than the stored state, ignored), `tie` (same-second change from another event, applied and
 * flagged), `skipped` (resource not selected), `no_object` (event has no object id).
 */
export type StateOutcome = 'applied' | 'stale' | 'tie' | 'skipped' | 'no_object';

export interface ProcessResult {
  outcome: StateOutcome;
  /** Stripe event type and `created`, read from the stored event (the workflow input is only a reference). */
  type: string;
  created: number;
  resource: string;
  objectId: string | null;
  children: number;
}

export interface EventOutcome extends EventRef {
  status: 'processed' | 'failed';
  outcome: string;
  error: string | null;
}

export interface EventActivities {
  applyEventToState(ref: EventRef): Promise<ProcessResult>;
  recordEventOutcome(outcome: EventOutcome): Promise<void>;
}
export type * from './outbound-types';
export type * from './business-types';
