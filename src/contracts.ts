/**
 * Contracts shared by workflows, activities and processes: event references, statuses, outcome
 * values, search-attribute names, workflow ids, task queues and signal names.
 *
 * This module imports nothing (house style rule 16, as `mutex/src/shared.ts` in
 * temporalio/samples-typescript): workflow code bundles it, and every other module may import it
 * without creating a cycle. Imports run one way — from here outwards.
 */

/** A Stripe event by reference: payloads never travel through workflow history. */
export interface EventRef {
  tenantId: string;
  eventId: string;
  /**
   * A thin event notification (`object: "v2.core.event"`): the workflow has its object fetched
   * from the Stripe API by an activity before applying it. Absent for snapshot events.
   */
  thin?: boolean;
}

/** Lifecycle of a stored event (the support view): received → processing → processed | failed. */
export const EVENT_STATUSES = ['received', 'processing', 'processed', 'failed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/**
 * Every value of the `HookflowOutcome` search attribute (and the `outcome` of a stored event),
 * with its meaning. The README's outcome table is checked against this list by a test.
 */
export const HOOKFLOW_OUTCOMES = {
  pending: 'the workflow was started and has not recorded an outcome yet',
  applied: 'the object state was written (no business handler for this type)',
  stale: 'an older event than the stored state or record: ignored, nothing overwritten',
  tie: 'same-second change from another event: applied and flagged `sameSecondTie`',
  refetched: 'same-second tie settled by re-fetching the object from the Stripe API (`source: refetch`)',
  skipped: 'the resource is not selected (`STATE_RESOURCES`, `STATE_UNSELECTED=skip`)',
  no_object:
    'the event carries no object id, or is a thin event without a v1 related object (`v2.core.*`): stored, nothing to apply',
  clerk_synced: 'Clerk organization (and user) metadata updated',
  clerk_not_configured: 'a Clerk event, but no Clerk key is configured for the tenant',
  no_organization: 'a checkout without a Clerk organization id; `reason` on the event says why',
  not_subscription: 'a checkout session that did not buy a subscription',
  case_opened: 'a dispute or fraud case was opened',
  case_updated: 'a dispute case was updated',
  case_resolved: 'a dispute case was resolved (won or lost)',
  not_a_case: 'a dispute or fraud event without a dispute / warning id',
  session_linked: 'a successful charge was linked to its payment session',
  session_failed: 'a failed payment was recorded on its payment session',
  no_session: 'a payment without a payment-session id in its metadata',
  failed: 'processing failed; the reason is on the stored event; support can re-run it',
  delivered: 'outbound delivery workflow: the merchant endpoint answered 2xx',
  delivery_failed:
    'outbound delivery workflow: gave up after the retry schedule; `hookflow deliveries resend` sends it again',
  endpoint_disabled: 'outbound delivery workflow: the endpoint answered 410 Gone and was disabled',
  delivery_skipped: 'outbound delivery workflow: not sent, the endpoint is disabled or it was delivered already',
} as const;
export type HookflowOutcomeValue = keyof typeof HOOKFLOW_OUTCOMES;
export const HOOKFLOW_OUTCOME_VALUES = Object.keys(HOOKFLOW_OUTCOMES) as HookflowOutcomeValue[];

/**
 * What happened to the object state: `applied` (newest change stored), `stale` (an older event
 * than the stored state, ignored), `tie` (same-second change from another event, applied and
 * flagged), `skipped` (resource not selected), `no_object` (event has no object id).
 */
export type StateOutcome = Extract<
  HookflowOutcomeValue,
  'applied' | 'stale' | 'tie' | 'refetched' | 'skipped' | 'no_object'
>;

/** Custom search attributes (design: "Temporal UI"); ids and types only, never personal data. */
export const SEARCH_ATTRIBUTE_TYPES = {
  StripeEventType: 'Keyword',
  StripeObjectId: 'Keyword',
  StripeCustomerId: 'Keyword',
  TenantId: 'Keyword',
  StripeLivemode: 'Bool',
  HookflowOutcome: 'Keyword',
  /** Stripe Connect: the connected account an event belongs to (`account`, thin events: `context`). */
  StripeAccountId: 'Keyword',
} as const;
export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTE_TYPES;

/** `stripe-event:<tenant>:<event id>` — one workflow per Stripe event (design: Idempotency). */
export function eventWorkflowId(tenantId: string, eventId: string): string {
  return `stripe-event:${tenantId}:${eventId}`;
}

/** One bulk re-run job per tenant at a time: the id is the tenant's, a running one blocks the next. */
export function bulkRerunWorkflowId(tenantId: string): string {
  return `bulk-rerun:${tenantId}`;
}

/** `<kind>:<business id>` ids (house style): one sequence per (endpoint, object), one delivery per message. */
export function sequenceWorkflowId(endpointId: string, orderKey: string): string {
  return `outbound-sequence:${endpointId}:${orderKey}`;
}

export function deliveryWorkflowId(messageId: string): string {
  return `outbound-delivery:${messageId}`;
}

/**
 * Design table "Business handlers": which business activity an event type runs. Other types only
 * update object state (and record their outcome in the same local activity).
 */
export const BUSINESS_HANDLERS = {
  'checkout.session.completed': 'syncClerkCheckout',
  'customer.subscription.updated': 'syncClerkSubscription',
  'customer.subscription.deleted': 'syncClerkSubscription',
  'charge.dispute.created': 'applyDisputeCase',
  'charge.dispute.updated': 'applyDisputeCase',
  'charge.dispute.closed': 'applyDisputeCase',
  'radar.early_fraud_warning.created': 'openFraudCase',
  'charge.succeeded': 'linkPaymentSession',
  'payment_intent.payment_failed': 'failPaymentSession',
} as const;
export type BusinessHandlerName = (typeof BUSINESS_HANDLERS)[keyof typeof BUSINESS_HANDLERS];

export function businessHandlerOf(eventType: string): BusinessHandlerName | null {
  return Object.hasOwn(BUSINESS_HANDLERS, eventType)
    ? BUSINESS_HANDLERS[eventType as keyof typeof BUSINESS_HANDLERS]
    : null;
}

/** Handlers that call Clerk: they run on the rate-limited `<task queue>-clerk` queue. */
export const CLERK_HANDLERS: readonly BusinessHandlerName[] = ['syncClerkCheckout', 'syncClerkSubscription'];

/** The task queue of the Clerk worker, derived so one setting (TEMPORAL_TASK_QUEUE) names both. */
export function clerkTaskQueue(taskQueue: string): string {
  return `${taskQueue}-clerk`;
}

/**
 * Every outbound webhook type hookflow sends (design table "Business handlers"). With the event id
 * and an endpoint id it derives a message id, so an event's deliveries are found by primary key.
 */
export const OUTBOUND_TYPES = [
  'transaction.succeeded',
  'transaction.failed',
  'dispute.created',
  'dispute.updated',
  'dispute.resolved',
  'case.created',
] as const;
export type OutboundType = (typeof OUTBOUND_TYPES)[number];

/** Signal that adds a message to a running (endpoint, object) delivery sequence. */
export const ENQUEUE_WEBHOOK_MESSAGE_SIGNAL = 'enqueueWebhookMessage';

/** `backfill:<tenant>:<run>`: one snapshot backfill run; each resource is a child with its own id. */
export function backfillWorkflowId(tenantId: string, runId: string): string {
  return `backfill:${tenantId}:${runId}`;
}

export function backfillResourceWorkflowId(tenantId: string, runId: string, resource: string): string {
  return `${backfillWorkflowId(tenantId, runId)}:${resource}`;
}

/** Query of a backfill run and of each resource child: objects, pages, rate (see workflows/backfill-stripe.ts). */
export const BACKFILL_PROGRESS_QUERY = 'backfillProgress';

/** `catch-up:<tenant>:<run>`: one pass over Stripe's Events API feeding missed events into the ledger. */
export function catchUpWorkflowId(tenantId: string, runId: string): string {
  return `catch-up:${tenantId}:${runId}`;
}

/**
 * Stripe API requests run on a task queue per key mode, and every worker paces them to the mode's
 * rate through shared slots in the database (src/stores/rate-slot-store.ts): Stripe allows more
 * reads per second live than in a sandbox. One activity makes one request.
 */
export function stripeApiTaskQueue(taskQueue: string, mode: 'live' | 'sandbox'): string {
  return `${taskQueue}-stripe-${mode}`;
}
