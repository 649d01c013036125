import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Schemas of the business records (cases, payment sessions, Clerk links and the subscription-status
 * cache). Only the stores beside this file (case-store.ts, payment-session-store.ts, clerk-store.ts)
 * write them; tests and the benchmark's direct prefill may bind them to read or seed rows.
 *
 * Every row is addressed by a deterministic `_id` made of the tenant and Stripe or Clerk ids, so each
 * write is an idempotent upsert and every hot-path access is an `_id` lookup (FerretDB's SQLite
 * backend pushes down nothing else, see event-models.ts). Rows whose content follows Stripe events
 * carry the watermark (`event.created`, event id) of the newest change applied. Only values, never
 * Stripe metadata keys, are stored as field names (FerretDB refuses `.` and leading `$` in names).
 */

/** What an application reads for an organization: Stripe `active`/`trialing` → active. */
export const SUBSCRIPTION_STATUSES = ['active', 'inactive', 'cancelled'] as const;
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

export const CASE_KINDS = ['dispute', 'fraud'] as const;
export type CaseKind = (typeof CASE_KINDS)[number];
export const CASE_STATUSES = ['open', 'won', 'lost', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const SESSION_STATUSES = ['succeeded', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** `_id` of a business record: tenant and its natural id (organization, customer, case, session, …). */
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
  /** Set when two events of the same second were applied in arrival order (see watermark.ts). */
  sameSecondTie: { type: Boolean, default: false },
} as const;

/** Stripe customer → Clerk organization (and purchasing user), learnt from `checkout.session.completed`. */
export const customerLinkSchema = new Schema(
  {
    /** businessKey(tenantId, customer id). */
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

/**
 * Stripe subscription → the Clerk organization it was last learnt for (checkout, or a subscription
 * event whose organization was resolved). It turns the subscription → organization fallback into an
 * `_id` lookup instead of a query on `organization_subscriptions.stripeSubscriptionId`.
 */
export const subscriptionLinkSchema = new Schema(
  {
    /** businessKey(tenantId, subscription id). */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    stripeSubscriptionId: { type: String, required: true },
    organizationId: { type: String, required: true },
    /** The event that taught it. */
    eventId: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'clerk_subscription_links', versionKey: false },
);

/** The subscription-status cache: one row per Clerk organization, mirrored into its Clerk metadata. */
export const organizationSubscriptionSchema = new Schema(
  {
    /** businessKey(tenantId, organization id). */
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

/** A dispute or early-fraud-warning case for support staff, id derived from the Stripe object. */
export const caseSchema = new Schema(
  {
    /** businessKey(tenantId, case id). */
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
    /** Stripe Connect: the connected account of the event that wrote it (event `account`), null for the platform's own. */
    account: { type: String, default: null },
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
/** Support lookups: by case id without a tenant, and the admin API's lists (newest first; by status, charge, account). */
caseSchema.index({ caseId: 1 });
caseSchema.index({ tenantId: 1, status: 1, openedAt: -1 });
caseSchema.index({ tenantId: 1, chargeId: 1 });
caseSchema.index({ tenantId: 1, account: 1, openedAt: -1 });

/** A merchant's payment session, linked to the charge that paid it (or the attempt that failed). */
export const paymentSessionSchema = new Schema(
  {
    /** businessKey(tenantId, session id). */
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
    /** Stripe Connect: the connected account of the event that wrote it (event `account`), null for the platform's own. */
    account: { type: String, default: null },
    livemode: { type: Boolean, required: true },
    lastEventType: { type: String, required: true },
    history: { type: [historyEntrySchema], default: [] },
    ...watermark,
    updatedAt: { type: Date, required: true },
  },
  { collection: 'payment_sessions', versionKey: false },
);
paymentSessionSchema.index({ tenantId: 1, sessionId: 1 }, { unique: true });
/** Support lookup by session id without a tenant. */
paymentSessionSchema.index({ sessionId: 1 });

export type CustomerLinkDoc = InferSchemaType<typeof customerLinkSchema>;
export type SubscriptionLinkDoc = InferSchemaType<typeof subscriptionLinkSchema>;
export type OrganizationSubscriptionDoc = InferSchemaType<typeof organizationSubscriptionSchema>;
export type CaseDoc = InferSchemaType<typeof caseSchema>;
export type PaymentSessionDoc = InferSchemaType<typeof paymentSessionSchema>;
export type HistoryEntry = InferSchemaType<typeof historyEntrySchema>;

/**
 * Binds (or returns the already bound) business models of a connection: the stores call this, and
 * so may tests and the benchmark prefill, without a second `connection.model` throwing.
 */
export function bindBusinessModels(connection: Connection) {
  return {
    CustomerLink: bindOnce(connection, 'CustomerLink', () => connection.model('CustomerLink', customerLinkSchema)),
    SubscriptionLink: bindOnce(connection, 'SubscriptionLink', () =>
      connection.model('SubscriptionLink', subscriptionLinkSchema),
    ),
    OrganizationSubscription: bindOnce(connection, 'OrganizationSubscription', () =>
      connection.model('OrganizationSubscription', organizationSubscriptionSchema),
    ),
    Case: bindOnce(connection, 'Case', () => connection.model('Case', caseSchema)),
    PaymentSession: bindOnce(connection, 'PaymentSession', () =>
      connection.model('PaymentSession', paymentSessionSchema),
    ),
  };
}

export type BusinessModels = ReturnType<typeof bindBusinessModels>;

function bindOnce<M>(connection: Connection, name: string, bind: () => M): M {
  return (connection.models[name] as M | undefined) ?? bind();
}
