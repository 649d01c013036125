import type { BusinessActivities } from '../activities/types';

/** Design table "Business handlers": which activity an event type runs. Other types only update state. */
export const BUSINESS_HANDLERS: Readonly<Record<string, keyof BusinessActivities>> = {
  'checkout.session.completed': 'syncClerkCheckout',
  'customer.subscription.updated': 'syncClerkSubscription',
  'customer.subscription.deleted': 'syncClerkSubscription',
  'charge.dispute.created': 'applyDisputeCase',
  'charge.dispute.updated': 'applyDisputeCase',
  'charge.dispute.closed': 'applyDisputeCase',
  'radar.early_fraud_warning.created': 'openFraudCase',
  'charge.succeeded': 'linkPaymentSession',
  'payment_intent.payment_failed': 'failPaymentSession',
};

/** Handlers that call Clerk: they run on the rate-limited `<task queue>-clerk` queue. */
export const CLERK_HANDLERS: ReadonlySet<keyof BusinessActivities> = new Set([
  'syncClerkCheckout',
  'syncClerkSubscription',
]);

/** The task queue of the Clerk worker, derived so one setting (TEMPORAL_TASK_QUEUE) names both. */
export function clerkTaskQueue(taskQueue: string): string {
  return `${taskQueue}-clerk`;
}
