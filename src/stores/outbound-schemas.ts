import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Outbound webhooks in Mongo: the endpoints tenants register, one message per (Stripe event,
 * outbound type, endpoint), and every delivery attempt. Bodies are JSON strings for the same
 * reason as Stripe payloads (src/stores/event-models.ts): keys with `.` or `$`, byte-exact round trips.
 *
 * Each document's `_id` is its deterministic key (endpoint id, message id, `<message id>:<attempt>`),
 * chosen by its store (endpoint-store.ts, message-store.ts): FerretDB 1.x (SQLite) answers an `_id`
 * equality from its primary key but scans the whole collection for any other filter, indexed or not
 * (stack-notes.md). The unique indexes on the natural keys stay, for MongoDB and as a guard; they
 * are declared here and built by connectDatabase for every model bound on the connection.
 */

export const endpointSchema = new Schema(
  {
    /** The endpoint id, so lookups by id use the primary key. */
    _id: { type: String, required: true },
    endpointId: { type: String, required: true },
    tenantId: { type: String, required: true },
    url: { type: String, required: true },
    /** Outbound event types: exact (`case.created`), prefix (`dispute.*`) or everything (`*`). */
    eventTypes: { type: [String], required: true },
    /** `whsec_…` signing secret, sealed with the master key (src/tenants/secret-box.ts). */
    secret: { type: String, required: true },
    /** The secret before the last rotation: still signed with until it expires, so merchants can switch. */
    previousSecret: { type: String, default: null },
    previousSecretExpiresAt: { type: Date, default: null },
    enabled: { type: Boolean, required: true, default: true },
    /** Why the endpoint stopped receiving: `410 Gone from the endpoint`, `disabled by operator`, … */
    disabledReason: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'outbound_endpoints', versionKey: false },
);
endpointSchema.index({ endpointId: 1 }, { unique: true });
endpointSchema.index({ tenantId: 1, enabled: 1 });

export const MESSAGE_STATUSES = ['pending', 'delivering', 'delivered', 'failed', 'skipped'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export const messageSchema = new Schema(
  {
    /** The message id: every step of a delivery reads and writes the message by primary key. */
    _id: { type: String, required: true },
    /** The Standard Webhooks `webhook-id`, stable across attempts and re-runs (derived in message-store.ts). */
    messageId: { type: String, required: true },
    tenantId: { type: String, required: true },
    endpointId: { type: String, required: true },
    stripeEventId: { type: String, required: true },
    /** `event.created` of the Stripe event (Unix seconds): the delivery order per object. */
    stripeEventCreated: { type: Number, required: true },
    objectId: { type: String, default: null },
    type: { type: String, required: true },
    /** `{ type, timestamp, data }` as sent, JSON. */
    body: { type: String, required: true },
    status: { type: String, enum: MESSAGE_STATUSES, required: true, default: 'pending' },
    attempts: { type: Number, required: true, default: 0 },
    lastStatusCode: { type: Number, default: null },
    lastError: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    deliveredAt: { type: Date, default: null },
    /** Every manual resend or recovery: who asked and when (support's audit trail). */
    /** `{ by, trigger: 'resend' | 'recover', at }` entries, oldest first. */
    resends: { type: [Schema.Types.Mixed], default: undefined },
  },
  { collection: 'outbound_messages', versionKey: false },
);
messageSchema.index({ messageId: 1 }, { unique: true });
messageSchema.index({ endpointId: 1, status: 1 });
messageSchema.index({ tenantId: 1, stripeEventId: 1 });

export const attemptSchema = new Schema(
  {
    /** attemptKey(messageId, attempt): a re-recorded attempt clashes on the primary key. */
    _id: { type: String, required: true },
    messageId: { type: String, required: true },
    endpointId: { type: String, required: true },
    /** 1-based, counted per message across every run that delivered it. */
    attempt: { type: Number, required: true },
    /** HTTP status, or null when no response arrived. */
    statusCode: { type: Number, default: null },
    latencyMs: { type: Number, required: true },
    error: { type: String, default: null },
    /** First KiB of the response, for support ("what did the merchant say?"). */
    responseBody: { type: String, default: '' },
    at: { type: Date, required: true },
  },
  { collection: 'outbound_attempts', versionKey: false },
);
attemptSchema.index({ messageId: 1, attempt: 1 }, { unique: true });
attemptSchema.index({ endpointId: 1, at: -1 });

/**
 * The messages whose current status is `failed` or `skipped`, one document each (`_id` = message id),
 * written and removed by the message store with the status. The failed-deliveries list and
 * `endpoints recover --since` read this small collection instead of scanning every message ever
 * sent (FerretDB scans for any filter but `_id`): its size is the backlog of undelivered messages.
 */
export const deliveryFailureSchema = new Schema(
  {
    _id: { type: String, required: true },
    messageId: { type: String, required: true },
    tenantId: { type: String, required: true },
    endpointId: { type: String, required: true },
    status: { type: String, enum: ['failed', 'skipped'], required: true },
    failedAt: { type: Date, required: true },
  },
  { collection: 'outbound_failures', versionKey: false },
);
deliveryFailureSchema.index({ endpointId: 1, failedAt: -1 });
deliveryFailureSchema.index({ failedAt: -1 });

export type EndpointDoc = InferSchemaType<typeof endpointSchema>;
export type MessageDoc = InferSchemaType<typeof messageSchema>;
export type AttemptDoc = InferSchemaType<typeof attemptSchema>;

/**
 * Bound per connection (idempotent: with the same schema mongoose returns the model already bound), so
 * tests and processes never share mongoose state. Only the stores write through these; tests read
 * them to check what was stored.
 */
export function bindOutboundModels(connection: Connection) {
  return {
    OutboundEndpoint: connection.model('OutboundEndpoint', endpointSchema),
    OutboundMessage: connection.model('OutboundMessage', messageSchema),
    OutboundAttempt: connection.model('OutboundAttempt', attemptSchema),
    OutboundFailure: connection.model('OutboundFailure', deliveryFailureSchema),
  };
}
