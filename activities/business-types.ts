/** Contracts of the business activities (design: "Business handlers"); workflows import this file for types only. */
import type { EventRef, HookflowOutcomeValue, OutboundType } from '../src/contracts';

/**
 * A message for the merchant's outbound webhooks. `objectId` is the Stripe object (or, for
 * `case.created`, the case) it is about; with the event id and the type it makes the stable
 * outbound message id. `data` holds ids, amounts and statuses only: never emails or names.
 */
export interface OutboundMessage {
  /** One of OUTBOUND_TYPES (src/contracts.ts), which the support views use to find an event's messages. */
  type: OutboundType;
  objectId: string;
  data: Record<string, unknown>;
}

/**
 * What an activity did (`outcome`, shown as the HookflowOutcome search attribute) and what to emit.
 * The outbound list is a pure function of the stored event, so a retried or re-run activity
 * returns the same messages and the delivery layer's stable ids deduplicate them.
 */
export interface BusinessResult {
  outcome: HookflowOutcomeValue;
  outbound: OutboundMessage[];
  /**
   * Why, when the outcome alone leaves support guessing (`no_organization`: which field was missing
   * or not a Clerk id). Recorded on the stored event as `reason`; ids only, never personal data.
   */
  reason?: string;
}

export interface BusinessActivities {
  /** `checkout.session.completed` */
  syncClerkCheckout(ref: EventRef): Promise<BusinessResult>;
  /** `customer.subscription.updated` / `.deleted` */
  syncClerkSubscription(ref: EventRef): Promise<BusinessResult>;
  /** `charge.dispute.created` / `.updated` / `.closed` */
  applyDisputeCase(ref: EventRef): Promise<BusinessResult>;
  /** `radar.early_fraud_warning.created` */
  openFraudCase(ref: EventRef): Promise<BusinessResult>;
  /** `charge.succeeded` */
  linkPaymentSession(ref: EventRef): Promise<BusinessResult>;
  /** `payment_intent.payment_failed` */
  failPaymentSession(ref: EventRef): Promise<BusinessResult>;
}
