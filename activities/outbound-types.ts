/** Contracts between the outbound-webhook workflows and activities; workflows import these as types only. */

import type { DeliveryPlan } from '../src/outbound/delivery-plan';

/** What the business workflow hands over: one outbound event, fanned out to matching endpoints. */
export interface OutboundDispatchInput {
  tenantId: string;
  stripeEventId: string;
  /** `event.created` (Unix seconds): orders messages about the same object, and is the body's timestamp. */
  stripeEventCreated: number;
  /** The Stripe object the event is about; messages about one object reach an endpoint in event order. */
  objectId: string | null;
  /** Outbound type, e.g. `dispute.created`, `case.created`. */
  type: string;
  /** Becomes `data` of the Standard Webhooks body `{ type, timestamp, data }`. */
  payload: unknown;
}

/** A message travels by reference: the body stays in Mongo, out of workflow history. */
export interface OutboundMessageRef {
  messageId: string;
  endpointId: string;
  tenantId: string;
  stripeEventId: string;
  stripeEventCreated: number;
  /** Messages with the same (endpoint, orderKey) are delivered one after another: the object id, else the message id. */
  orderKey: string;
  objectId: string | null;
}

/** Retry schedule of one message; comes from config through the enqueue activity. */
export type { DeliveryPlan } from '../src/outbound/delivery-plan';

export interface DeliverWebhookInput {
  message: OutboundMessageRef;
  plan: DeliveryPlan;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'endpoint_disabled' | 'skipped';

export interface DeliverWebhookResult {
  messageId: string;
  outcome: DeliveryOutcome;
  /** Attempts made by this run. */
  attempts: number;
}

export interface SequenceInput {
  endpointId: string;
  orderKey: string;
  plan: DeliveryPlan;
  /** Messages waiting, in Stripe event order (carried over on continue-as-new). */
  pending: OutboundMessageRef[];
}

export interface BeginDeliveryResult {
  deliver: boolean;
  /** Attempts already recorded for this message (an earlier run); numbering continues after them. */
  attemptsSoFar: number;
  reason: string | null;
}

export interface AttemptInput {
  messageId: string;
  attempt: number;
}

/** `gone` is HTTP 410: Standard Webhooks says the endpoint should be disabled. */
export interface AttemptOutcome {
  outcome: 'delivered' | 'gone' | 'failed' | 'skipped';
  statusCode: number | null;
  retryAfterMs?: number;
  error?: string;
}

export interface OutboundActivities {
  /** Upserts one message per matching endpoint and returns those not yet delivered. */
  prepareOutboundMessages(input: OutboundDispatchInput): Promise<OutboundMessageRef[]>;
  /** Signal-with-start of the (endpoint, object) sequence workflow; idempotent (the workflow dedupes). */
  enqueueOutboundMessage(message: OutboundMessageRef): Promise<void>;
  beginWebhookDelivery(messageId: string): Promise<BeginDeliveryResult>;
  /** One HTTP attempt, recorded; never retried by Temporal (the workflow owns the schedule). */
  attemptWebhookDelivery(input: AttemptInput): Promise<AttemptOutcome>;
  markWebhookDelivered(messageId: string): Promise<void>;
  markWebhookFailed(input: { messageId: string; error: string }): Promise<void>;
  disableWebhookEndpoint(input: { endpointId: string; messageId: string; reason: string }): Promise<void>;
}
