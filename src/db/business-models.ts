import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Records the business activities keep. Every row has a unique key made of Stripe or Clerk ids, so
 * each write is an idempotent upsert; rows whose content follows Stripe events carry the same
 * watermark (`event.created`, event id) as the object state table, written with `writeIfNotOlder`,
 * so an older event never overwrites a newer one. Only values, never Stripe metadata keys, are
 * stored as field names (FerretDB refuses `.` and leading `$` in names).
 */

/** What an application reads for an organization: Stripe `active`/`trialing` → active. */
export const SUBSCRIPTION_STATUSES = ['active', 'inactive', 'cancelled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const CASE_KINDS = ['dispute', 'fraud'] as const;
export const CASE_STATUSES = ['open', 'won', 'lost', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const SESSION_STATUSES = ['succeeded', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** `_id` of a business record: tenant and its natural id (organization, customer, case, session). */
export const businessKey = (tenantId: string, id: string) => `${tenantId}:${id}`;

/** One Stripe event that touched a record; pushed once per event id. */
const historyEntrySchema = new Schema(
  {
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    /** `event.created`, Unix seconds. */
    created: { type: Number, required: true },
    /** The Stripe object's status in that event. */
    stripeStatus: { type: String, default: null },
  },
  { _id: false },
);

const watermark = {
  watermarkCreated: { type: Number, required: true },
  watermarkEventId: { type: String, required: true },
  /** Set when two events of the same second were applied in arrival order (see object-state-store). */
  sameSecondTie: { type: Boolean, default: false },
} as const;

/** Stripe customer → Clerk organization (and purchasing user), learnt from `checkout.session.completed`. */
export const customerLinkSchema = new Schema(
  {
    /** businessKey(tenantId, natural id): addressed by `_id` (see models.ts on FerretDB). */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    stripeCustomerId: { type: String, required: true },
    organizationId: { type: String, required: true },
    userId: { type: String, default: null },
    stripeSubscriptionId: { type: String, default: null },
    checkoutSessionId: { type: String, required: true },
    eventId: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'clerk_customer_links', versionKey: false },
);
customerLinkSchema.index({ tenantId: 1, stripeCustomerId: 1 }, { unique: true });

/** The subscription-status cache: one row per Clerk organization, mirrored into its Clerk metadata. */
export const organizationSubscriptionSchema = new Schema(
  {
    /** businessKey(tenantId, natural id): addressed by `_id` (see models.ts on FerretDB). */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    organizationId: { type: String, required: true },
    stripeCustomerId: { type: String, default: null },
    stripeSubscriptionId: { type: String, default: null },
    status: { type: String, enum: SUBSCRIPTION_STATUSES, required: true },
    /** Stripe's own subscription status (`past_due`, …); null when set from a checkout session. */
    stripeStatus: { type: String, default: null },
    lastEventType: { type: String, required: true },
    ...watermark,
    updatedAt: { type: Date, required: true },
  },
  { collection: 'organization_subscriptions', versionKey: false },
);
organizationSubscriptionSchema.index({ tenantId: 1, organizationId: 1 }, { unique: true });
organizationSubscriptionSchema.index({ tenantId: 1, stripeSubscriptionId: 1 });

/** A dispute or early-fraud-warning case for support staff, id derived from the Stripe object. */
export const caseSchema = new Schema(
  {
    /** businessKey(tenantId, natural id): addressed by `_id` (see models.ts on FerretDB). */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    /** `case_<dispute id>` / `case_<early fraud warning id>`: a re-run finds the same case. */
    caseId: { type: String, required: true },
    kind: { type: String, enum: CASE_KINDS, required: true },
    status: { type: String, enum: CASE_STATUSES, required: true },
    /** The dispute (`dp_…`) or early fraud warning (`issfr_…`). */
    stripeObjectId: { type: String, required: true },
    stripeStatus: { type: String, default: null },
    chargeId: { type: String, default: null },
    paymentIntentId: { type: String, default: null },
    /** Minor units, as Stripe sends them; null for fraud warnings (they carry no amount). */
    amount: { type: Number, default: null },
    currency: { type: String, default: null },
    /** Dispute `reason` or early fraud warning `fraud_type`. */
    reason: { type: String, default: null },
    evidenceDueBy: { type: Date, default: null },
    livemode: { type: Boolean, required: true },
    openedAt: { type: Date, required: true },
    resolvedAt: { type: Date, default: null },
    lastEventType: { type: String, required: true },
    history: { type: [historyEntrySchema], default: [] },
    ...watermark,
    updatedAt: { type: Date, required: true },
  },
  { collection: 'cases', versionKey: false },
);
caseSchema.index({ tenantId: 1, caseId: 1 }, { unique: true });
caseSchema.index({ tenantId: 1, status: 1, openedAt: -1 });
caseSchema.index({ tenantId: 1, chargeId: 1 });

/** A merchant's payment session, linked to the charge that paid it (or the attempt that failed). */
export const paymentSessionSchema = new Schema(
  {
    /** businessKey(tenantId, natural id): addressed by `_id` (see models.ts on FerretDB). */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    sessionId: { type: String, required: true },
    status: { type: String, enum: SESSION_STATUSES, required: true },
    chargeId: { type: String, default: null },
    paymentIntentId: { type: String, default: null },
    customerId: { type: String, default: null },
    amount: { type: Number, default: null },
    currency: { type: String, default: null },
    /** `last_payment_error.code` / `.decline_code` of a failed attempt. */
    failureCode: { type: String, default: null },
    declineCode: { type: String, default: null },
    livemode: { type: Boolean, required: true },
    lastEventType: { type: String, required: true },
    history: { type: [historyEntrySchema], default: [] },
    ...watermark,
    updatedAt: { type: Date, required: true },
  },
  { collection: 'payment_sessions', versionKey: false },
);
paymentSessionSchema.index({ tenantId: 1, sessionId: 1 }, { unique: true });

export type CustomerLinkDoc = InferSchemaType<typeof customerLinkSchema>;
export type OrganizationSubscriptionDoc = InferSchemaType<typeof organizationSubscriptionSchema>;
export type CaseDoc = InferSchemaType<typeof caseSchema>;
export type PaymentSessionDoc = InferSchemaType<typeof paymentSessionSchema>;
export type HistoryEntry = InferSchemaType<typeof historyEntrySchema>;

/** Bound per connection, like `bindModels`, so tests and processes never share mongoose state. */
export function bindBusinessModels(connection: Connection) {
  return {
    CustomerLink: connection.model('CustomerLink', customerLinkSchema),
    OrganizationSubscription: connection.model('OrganizationSubscription', organizationSubscriptionSchema),
    Case: connection.model('Case', caseSchema),
    PaymentSession: connection.model('PaymentSession', paymentSessionSchema),
  };
}

export type BusinessModels = ReturnType<typeof bindBusinessModels>;

/** `connectDatabase` turns autoIndex off; this is the one awaited index build for these models. */
export async function createBusinessIndexes(models: BusinessModels): Promise<void> {
  await Promise.all(Object.values(models).map((model) => model.createIndexes()));
}
