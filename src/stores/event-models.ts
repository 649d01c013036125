import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { EVENT_STATUSES } from '../contracts';
import { bindLockModel } from './locks';

/**
 * One writer per document at a time: FerretDB 1.x (SQLite) rewrites the whole document on every
 * update without isolation, so two concurrent updates of different fields of one document can undo
 * each other. Hence: the receiver only inserts an event; afterwards only its workflow updates it
 * (sequentially); object state is written under a lock (locks.ts).
 *
 * Stripe payloads are stored as JSON strings (`rawBody`, `state`): Stripe metadata keys may contain
 * `.` or start with `$`, which FerretDB (and older MongoDB) refuse as field names, and a string
 * round-trips every payload byte for byte. Fields we query on are lifted out beside them.
 */

/**
 * Hot documents carry a deterministic string `_id`: FerretDB 1.x (SQLite) answers an `_id`
 * equality from its primary key but scans the whole collection for any other filter, indexed or
 * not — measured 3 ms by `_id` against 29 ms by an indexed field at only 2,000 documents, growing
 * with the collection. (The one exception is a `find` on the fields of a `…__pushdown` index, see
 * the support-list indexes below; writes always scan.) The unique indexes on the natural keys stay
 * for MongoDB and as a guard.
 */
export const eventKey = (tenantId: string, eventId: string) => `${tenantId}:${eventId}`;
export const objectStateKey = (tenantId: string, resource: string, objectId: string) =>
  `${tenantId}:${resource}:${objectId}`;
export const objectChildKey = (tenantId: string, parentId: string, list: string, childId: string) =>
  `${tenantId}:${parentId}:${list}:${childId}`;

export const stripeEventSchema = new Schema(
  {
    /** eventKey(tenantId, eventId) */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    type: { type: String, required: true },
    resource: { type: String, required: true },
    objectId: { type: String, default: null },
    customerId: { type: String, default: null },
    /** Stripe Connect: the connected account (event `account`), null for the platform's own. */
    account: { type: String, default: null },
    livemode: { type: Boolean, required: true },
    apiVersion: { type: String, default: null },
    /** `event.created`, Unix seconds as Stripe sends it. */
    eventCreated: { type: Number, required: true },
    /** The verified request body exactly as Stripe sent it. */
    rawBody: { type: String, required: true },
    /**
     * Thin notifications only: the snapshot-shaped event built from what the Stripe API returned
     * (thin-events.ts, materializeThinEvent), which the state and business activities read instead
     * of the notification. Null until fetched, and for snapshot events.
     */
    fetchedBody: { type: String, default: null },
    status: { type: String, enum: EVENT_STATUSES, required: true, default: 'received' },
    outcome: { type: String, default: null },
    error: { type: String, default: null },
    /** Why a processed event got its outcome, where the outcome alone does not say (`no_organization`). */
    reason: { type: String, default: null },
    workflowId: { type: String, required: true },
    receivedAt: { type: Date, required: true },
    processedAt: { type: Date, default: null },
    /**
     * listKey(receivedAt, eventId): the support list's sort key and cursor — one string that orders
     * newest-first and is unique within a tenant, so a page is one range on one indexed field.
     * Absent on events stored before the support view existed (they are not listed; `show` finds them).
     */
    listKey: { type: String },
    /** Re-runs so far (audit records `event_reruns` 1…n, see rerun-store.ts). */
    reruns: { type: Number, default: 0 },
    /** The workflow and run that last recorded a status (a forced re-run runs under a derived id). */
    currentWorkflowId: { type: String, default: null },
    runId: { type: String, default: null },
    /** A Stripe redelivery that restarted this failed event; null when only the first delivery counted. */
    lastReceivedAt: { type: Date, default: null },
  },
  { collection: 'stripe_events', versionKey: false },
);
stripeEventSchema.index({ tenantId: 1, eventId: 1 }, { unique: true });
// The support list (EventStore.listEvents): every index leads with the tenant and ends with the
// list key, so "filter by X, newest first, page after cursor" is one index range read in order.
// On FerretDB these indexes are served only because their names end in `__pushdown`: the patched
// build (scripts/ferretdb-pushdown.patch) pushes a `find`'s string equalities, string ranges, sort
// and limit down to SQLite on the fields of such indexes, and on nothing else. Naming an index
// `__pushdown` is a promise about its fields: they only ever hold strings (or null), never arrays,
// and every string a range or sort compares consists of "safe" characters (0x23-0x7E except
// `\ < > &`) — see listKey() below; tenant ids, types, statuses and Stripe ids are validated to
// be such strings before they are stored (TENANT_ID_PATTERN, event-limits.ts).
export const PUSHDOWN_INDEX_SUFFIX = '__pushdown';
stripeEventSchema.index({ tenantId: 1, listKey: -1 }, { name: `list_tenant${PUSHDOWN_INDEX_SUFFIX}` });
stripeEventSchema.index({ tenantId: 1, status: 1, listKey: -1 }, { name: `list_status${PUSHDOWN_INDEX_SUFFIX}` });
stripeEventSchema.index({ tenantId: 1, type: 1, listKey: -1 }, { name: `list_type${PUSHDOWN_INDEX_SUFFIX}` });
stripeEventSchema.index({ tenantId: 1, objectId: 1, listKey: -1 }, { name: `list_object${PUSHDOWN_INDEX_SUFFIX}` });
stripeEventSchema.index({ tenantId: 1, customerId: 1, listKey: -1 }, { name: `list_customer${PUSHDOWN_INDEX_SUFFIX}` });
// Stripe Connect: a platform's events of one connected account (`account` is a string or null).
stripeEventSchema.index({ tenantId: 1, account: 1, listKey: -1 }, { name: `list_account${PUSHDOWN_INDEX_SUFFIX}` });

/** Separates the time from the event id in a list key. */
export const LIST_KEY_SEPARATOR = '|';

/**
 * `<receivedAt ISO>|<event id>`: ISO 8601 UTC strings sort as the times they name, and the key is a
 * bound-safe string for the FerretDB pushdown (see the index note above). Invariant: every
 * character is in 0x23-0x7E and not `\ < > &`, so the JSON text SQLite compares orders exactly as
 * MongoDB orders the strings. The separator `|` (0x7C) sorts after every character of an ISO time
 * and after the closing quote of a bare-time bound, so `T|evt` > `T` both in MongoDB and in JSON
 * text: a `since`/`until` bound `T` splits events exactly at time T (a space, 0x20, did not: it
 * sorts before the quote). Event ids are [A-Za-z0-9_-] (event-limits.ts); anything else is
 * percent-escaped rather than stored unsafe, which keeps keys unique.
 */
export const listKey = (receivedAt: Date, eventId: string) =>
  `${receivedAt.toISOString()}${LIST_KEY_SEPARATOR}${safeKeyPart(eventId)}`;

/**
 * A string listKey() returns. Cursors are checked with it: a bound of unsafe characters would not
 * be pushed down to the index (it would decode the whole collection), and no list key has one.
 */
export const isListKey = (text: string) =>
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|[A-Za-z0-9_.%-]{1,255}$/.test(text);

/** `[A-Za-z0-9_.-]` stay; every other UTF-8 byte becomes `%XX` (so `%` itself too: injective). */
function safeKeyPart(text: string): string {
  if (/^[A-Za-z0-9_.-]*$/.test(text)) return text;
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_.-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The re-run audit trail (rerun-store.ts): `_id` = `<tenant>:<event id>:rerun:<seq>`. */
export const rerunSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    eventId: { type: String, required: true },
    seq: { type: Number, required: true },
    trigger: { type: String, required: true },
    by: { type: String, required: true },
    reason: { type: String, required: true },
    at: { type: Date, required: true },
    forced: { type: Boolean, default: false },
    bulkJobId: { type: String, default: null },
    previousStatus: { type: String, required: true },
    previousWorkflowId: { type: String, required: true },
    previousRunId: { type: String, default: null },
    workflowId: { type: String, required: true },
    runId: { type: String, default: null },
    result: { type: String, required: true },
  },
  { collection: 'event_reruns', versionKey: false },
);

/** Bulk re-run jobs (one Temporal workflow each), `_id` = job id; progress written by the job. */
export const bulkRerunSchema = new Schema(
  {
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    /** The filter as given (query-string form), for display and for the job's own queries. */
    filter: { type: Object, required: true },
    reason: { type: String, required: true },
    by: { type: String, required: true },
    state: { type: String, required: true },
    planned: { type: Number, required: true },
    started: { type: Number, default: 0 },
    skipped: { type: Number, default: 0 },
    failedStarts: { type: Number, default: 0 },
    lastError: { type: String, default: null },
    workflowId: { type: String, required: true },
    runId: { type: String, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    finishedAt: { type: Date, default: null },
    cancelledBy: { type: String, default: null },
  },
  { collection: 'bulk_reruns', versionKey: false },
);

/**
 * The start inbox: one document per batch of stored events whose workflows may not be started yet.
 * The receiver writes it before the events (so a crash in between leaves only a harmless list of
 * keys), and deletes it once every event of the batch has its workflow started; what stays is the
 * reconciler's work list. It holds batches in flight only, so it stays small however many events
 * are stored, and the reconciler reads it with an unfiltered, unsorted `limit` — the one query
 * besides `_id` equality that upstream FerretDB's SQLite backend pushes down (`SELECT … LIMIT n`).
 */
export const inboxSchema = new Schema(
  {
    /** `inbox:<receivedAt ms>:<random>` */
    _id: { type: String, required: true },
    /** eventKey()s of the batch. */
    eventKeys: { type: [String], required: true },
    receivedAt: { type: Date, required: true },
    /** Reconciler passes that could not start every event of this entry (it is re-queued at the back). */
    attempts: { type: Number, default: 0 },
    /** Not before this time: backoff after a failed start, so one bad entry never starves the rest. */
    notBefore: { type: Date, required: true },
  },
  { collection: 'event_inbox', versionKey: false },
);

export const objectStateSchema = new Schema(
  {
    /** objectStateKey(tenantId, resource, objectId) */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    /** First segment of the event type: `customer.subscription.updated` → `customer`. */
    resource: { type: String, required: true },
    objectId: { type: String, required: true },
    /** Stripe's own `object` field (`subscription`, `invoice`, …). */
    objectType: { type: String, required: true },
    customerId: { type: String, default: null },
    /** Stripe Connect: the connected account (event `account`), null for the platform's own. */
    account: { type: String, default: null },
    /** Latest known object, JSON (see the note at the top of this file). */
    state: { type: String, required: true },
    deleted: { type: Boolean, default: false },
    /** Watermark: the newest change applied. Older changes never overwrite it. */
    watermarkCreated: { type: Number, required: true },
    watermarkEventId: { type: String, required: true },
    lastEventType: { type: String, required: true },
    apiVersion: { type: String, default: null },
    livemode: { type: Boolean, required: true },
    changeType: { type: String, required: true },
    /** `data.previous_attributes` of the applied event, JSON, or null. */
    previousAttributes: { type: String, default: null },
    source: { type: String, enum: ['webhook', 'snapshot', 'refetch'], required: true },
    /** Ids of the fan-out children (object_children) the current state lists. */
    childIds: { type: [String], default: [] },
    /**
     * Whether the fan-out children are exactly the object's nested list. False when Stripe sent the
     * list cut short (`has_more: true`) and it could not be read in full (no API key, parent gone):
     * the children shown were upserted and earlier ones kept, none removed. Null for objects
     * without a fan-out list.
     */
    childrenComplete: { type: Boolean, default: null },
    /**
     * Two different events with the same `created` second: Stripe's ordering is unknown, the
     * later arrival was applied and this flag makes the tie visible instead of silent.
     */
    sameSecondTie: { type: Boolean, default: false },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'object_state', versionKey: false },
);
objectStateSchema.index({ tenantId: 1, resource: 1, objectId: 1 }, { unique: true });
objectStateSchema.index({ tenantId: 1, customerId: 1 });

export const objectChildSchema = new Schema(
  {
    /** objectChildKey(tenantId, parentId, list, childId) */
    _id: { type: String, required: true },
    tenantId: { type: String, required: true },
    parentResource: { type: String, required: true },
    parentId: { type: String, required: true },
    /** Which nested list: `lines` (invoice), `refunds` (charge), `items` (subscription). */
    list: { type: String, required: true },
    childId: { type: String, required: true },
    position: { type: Number, required: true },
    state: { type: String, required: true },
    watermarkCreated: { type: Number, required: true },
    watermarkEventId: { type: String, required: true },
  },
  { collection: 'object_children', versionKey: false },
);
objectChildSchema.index({ tenantId: 1, parentId: 1, list: 1, childId: 1 }, { unique: true });

export type StripeEventDoc = InferSchemaType<typeof stripeEventSchema>;
export type InboxDoc = InferSchemaType<typeof inboxSchema>;

/** Models are bound per connection so tests and processes never share global mongoose state. */
export function bindModels(connection: Connection) {
  return {
    StripeEvent: connection.model('StripeEvent', stripeEventSchema),
    Inbox: connection.model('Inbox', inboxSchema),
    ObjectState: connection.model('ObjectState', objectStateSchema),
    ObjectChild: connection.model('ObjectChild', objectChildSchema),
    Rerun: connection.model('Rerun', rerunSchema),
    BulkRerun: connection.model('BulkRerun', bulkRerunSchema),
    Lock: bindLockModel(connection),
  };
}

export type Models = ReturnType<typeof bindModels>;
