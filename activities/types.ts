/** Contracts between workflows and activities; workflows import this file for types only. */
import type { EventRef, HookflowOutcomeValue, StateOutcome } from '../src/contracts';

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
   * The event's outcome is recorded already: a type without a business handler is finished by
   * this one local activity (one activity per event instead of two).
   */
  recorded: boolean;
}

export interface EventOutcome extends EventRef {
  status: 'processed' | 'failed';
  outcome: HookflowOutcomeValue;
  error: string | null;
  /** Why this outcome, when the value alone does not say (BusinessResult.reason). */
  reason?: string | null;
}

export interface EventActivities {
  applyEventToState(ref: EventRef): Promise<ProcessResult>;
  recordEventOutcome(outcome: EventOutcome): Promise<void>;
}
export type * from './outbound-types';
export type * from './business-types';
