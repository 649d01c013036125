import { z } from 'zod';
import { EVENT_STATUSES, eventWorkflowId, type EventStatus } from '../contracts';
import type { Stores } from '../stores';
import { isListKey, type StripeEventDoc } from '../stores/event-models';
import type { EventListFilter, ListedEvent } from '../stores/event-store';
import { caseIdFor } from '../stores/case-store';
import type { RerunRecord } from '../stores/rerun-store';

/**
 * The support view of stored events, shared by `GET /api/events`, `hookflow events` and the admin
 * page: one filter vocabulary, one validation, one page shape. Filters are parsed here (zod) and
 * answered by EventStore.listEvents, whose queries are served by indexes (see event-models.ts).
 */

/** The filters alone (a bulk re-run takes these, without paging). */
export const EVENT_FILTER_PARAMETERS = [
  'tenant',
  'status',
  'type',
  'object',
  'customer',
  'account',
  'since',
  'until',
] as const;
/** Query parameters of `GET /api/events` (and the CLI's options, by the same names). */
export const EVENT_LIST_PARAMETERS = [...EVENT_FILTER_PARAMETERS, 'limit', 'cursor'] as const;

export const DEFAULT_EVENT_PAGE = 50;
export const MAX_EVENT_PAGE = 200;

/** Stripe event ids: `evt_` then letters, digits and underscores (thin events: `evt_test_…`). */
export const EVENT_ID_PATTERN = /^evt_[A-Za-z0-9_]{1,250}$/;
const TENANT_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const STRIPE_ID_PATTERN = /^[A-Za-z0-9_]{1,255}$/;
/** Stripe Connect account ids: `acct_` then letters and digits. */
export const ACCOUNT_ID_PATTERN = /^acct_[A-Za-z0-9]{1,250}$/;
/** `charge.dispute.created`, or a trailing wildcard segment: `charge.dispute.*`. */
const TYPE_PATTERN = /^(?:[a-z0-9_]+\.)*(?:[a-z0-9_]+|\*)$/;

/** Bad input: an unknown filter, a malformed value or id, a cursor that is not ours. HTTP 400. */
export class InvalidEventQuery extends Error {
  override readonly name = 'InvalidEventQuery';
  constructor(
    readonly code: 'unknown_query_parameter' | 'invalid_filter' | 'invalid_id' | 'invalid_cursor',
    message: string,
  ) {
    super(message);
  }
}

/** No stored event with this id (in this tenant, or in any tenant when none was named). HTTP 404. */
export class EventNotFound extends Error {
  override readonly name = 'EventNotFound';
}

/** The id is stored under several tenants and no tenant was named. HTTP 409. */
export class AmbiguousEventId extends Error {
  override readonly name = 'AmbiguousEventId';
}

/** What a caller may filter on. `type` is exact, or a prefix when it ends in `.*`. */
export interface EventFilter {
  tenantId?: string;
  status?: EventStatus;
  type?: string;
  objectId?: string;
  customerId?: string;
  /** Stripe Connect: events of this connected account (`account` of the event). */
  accountId?: string;
  /** Received at or after. */
  since?: Date;
  /** Received before. */
  until?: Date;
}

export interface EventListQuery extends EventFilter {
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** One row of the list: what support needs to see at a glance. */
export interface EventListItem {
  tenantId: string;
  eventId: string;
  type: string;
  objectId: string | null;
  customerId: string | null;
  /** Stripe Connect: the connected account, null for the platform's own events. */
  account: string | null;
  livemode: boolean;
  status: EventStatus;
  outcome: string | null;
  /** The last failure, split into its type (`ClerkRequestFailed`) and message. */
  error: { type: string | null; message: string } | null;
  reason: string | null;
  /** Runs so far: 1 + re-runs. */
  attempts: number;
  workflowId: string;
  /** The run that wrote the current status (null until a run recorded one). */
  runId: string | null;
  receivedAt: string;
  /** The latest delivery that changed something (a Stripe redelivery that restarted it), else the first. */
  lastReceivedAt: string;
  processedAt: string | null;
}

export interface EventPage {
  events: EventListItem[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface EventDetail {
  event: EventListItem & {
    apiVersion: string | null;
    eventCreated: number;
    /** The stored body, pretty-printed (never rendered as HTML by any client). */
    payload: string;
  };
  /** Latest stored state of the event's object, parsed, or null. */
  objectState: Record<string, unknown> | null;
  cases: Array<Record<string, unknown>>;
  /** Outbound messages of this event, each with every attempt. */
  deliveries: Array<Record<string, unknown>>;
  /** Audit records, oldest first. */
  reruns: RerunRecord[];
  temporal: {
    workflowId: string;
    runId: string | null;
    /** Deep link into the Temporal UI when TEMPORAL_UI_URL is set. */
    uiUrl: string | null;
    /** Live state of the current run when Temporal answers (RUNNING → the event shows `processing`). */
    runStatus: string | null;
  };
}

export interface EventQueriesDeps {
  stores: Pick<Stores, 'events' | 'objectState' | 'cases' | 'tenants' | 'reruns'>;
  /** Outbound messages of an event with their attempts (the delivery service's view); absent = none shown. */
  deliveriesOfEvent?: (tenantId: string, eventId: string) => Promise<Array<Record<string, unknown>>>;
  /** HOOKFLOW_DEFAULT_TENANT: always searched, it is not in the tenant store. */
  defaultTenant: string;
  /** Temporal namespace and UI base URL (TEMPORAL_UI_URL) for deep links; uiUrl null = no links. */
  temporalUi: { uiUrl: string | null; namespace: string };
  /** Live run status from Temporal (DESCRIBE); absent or failing = unknown, never an error. */
  describeRun?: (workflowId: string) => Promise<{ runId: string; status: string } | null>;
}

export interface EventQueries {
  list(query: EventListQuery): Promise<EventPage>;
  show(eventId: string, tenantId?: string): Promise<EventDetail>;
}

const durationUnits: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `2h`, `30m`, `7d` (before now) or an ISO 8601 date. */
export function parseTime(name: string, value: string, now = Date.now()): Date {
  const relative = /^(\d{1,6})([mhd])$/.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * durationUnits[relative[2]!]!);
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const date = new Date(value);
    if (!Number.isNaN(date.getTime())) return date;
  }
  throw new InvalidEventQuery('invalid_filter', `${name} must be a duration such as 30m, 2h or 7d, or an ISO date.`);
}

const optionalText = z.string().trim().min(1).optional();
const filterSchema = z
  .object({
    tenant: optionalText.pipe(
      z.string().regex(TENANT_PATTERN, 'tenant must be 1-64 letters, digits, _ or -').optional(),
    ),
    status: z.enum(EVENT_STATUSES, { error: `status must be one of ${EVENT_STATUSES.join(', ')}` }).optional(),
    type: optionalText.pipe(
      z
        .string()
        .regex(TYPE_PATTERN, 'type must be a Stripe event type such as charge.dispute.created or charge.dispute.*')
        .optional(),
    ),
    object: optionalText.pipe(z.string().regex(STRIPE_ID_PATTERN, 'object must be a Stripe object id').optional()),
    customer: optionalText.pipe(
      z
        .string()
        .regex(/^cus_[A-Za-z0-9]{1,250}$/, 'customer must be a cus_ id')
        .optional(),
    ),
    account: optionalText.pipe(
      z.string().regex(ACCOUNT_ID_PATTERN, 'account must be a connected account id (acct_…)').optional(),
    ),
    since: optionalText,
    until: optionalText,
    limit: optionalText.pipe(
      z
        .string()
        .regex(/^\d{1,3}$/, `limit must be an integer from 1 to ${MAX_EVENT_PAGE}`)
        .transform(Number)
        .pipe(
          z
            .number()
            .min(1, `limit must be an integer from 1 to ${MAX_EVENT_PAGE}`)
            .max(MAX_EVENT_PAGE, `limit must be an integer from 1 to ${MAX_EVENT_PAGE}`),
        )
        .optional(),
    ),
    cursor: optionalText,
  })
  .strict();

/**
 * Parses list parameters as they arrive from a query string or CLI options (strings; arrays take
 * their first value). Unknown names are refused rather than ignored: an ignored filter would
 * answer with every event, which looks like a match.
 */
export function parseEventListQuery(
  input: Record<string, unknown>,
  allowed: readonly string[] = EVENT_LIST_PARAMETERS,
): EventListQuery {
  const unknown = Object.keys(input).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw new InvalidEventQuery(
      'unknown_query_parameter',
      `Unknown filter${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `'${name}'`).join(', ')}: accepted are ${allowed.join(', ')}.`,
    );
  }
  const flat = Object.fromEntries(
    Object.entries(input)
      .map(([key, value]) => [key, Array.isArray(value) ? value[0] : value])
      .filter(([, value]) => value !== undefined && value !== null && value !== ''),
  );
  const parsed = filterSchema.safeParse(flat);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidEventQuery(
      'invalid_filter',
      `${issue.message} (got ${describeValue(flat[issue.path[0] as string])}).`,
    );
  }
  const value = parsed.data;
  const now = Date.now();
  const since = value.since === undefined ? undefined : parseTime('since', value.since, now);
  const until = value.until === undefined ? undefined : parseTime('until', value.until, now);
  if (since && until && since >= until) throw new InvalidEventQuery('invalid_filter', 'since must be before until.');
  if (value.cursor !== undefined) decodeCursor(value.cursor);
  return {
    tenantId: value.tenant,
    status: value.status,
    type: value.type,
    objectId: value.object,
    customerId: value.customer,
    accountId: value.account,
    since,
    until,
    limit: value.limit ?? DEFAULT_EVENT_PAGE,
    cursor: value.cursor,
  };
}

/** The filters alone (bulk re-run plans): same rules, no paging parameters. */
export function parseEventFilter(input: Record<string, unknown>): EventFilter {
  const { limit, cursor, ...filter } = parseEventListQuery(input, EVENT_FILTER_PARAMETERS); // eslint-disable-line @typescript-eslint/no-unused-vars
  return filter;
}

export function parseEventId(value: string): string {
  if (!EVENT_ID_PATTERN.test(value)) {
    throw new InvalidEventQuery('invalid_id', `'${value.slice(0, 80)}' is not a Stripe event id (evt_…).`);
  }
  return value;
}

export function parseTenantId(value: string): string {
  if (!TENANT_PATTERN.test(value)) {
    throw new InvalidEventQuery(
      'invalid_id',
      `'${value.slice(0, 80)}' is not a tenant id (1-64 letters, digits, _ or -).`,
    );
  }
  return value;
}

/** Cursors are opaque to callers: the list key of the last row, base64url. */
export function encodeCursor(listKey: string): string {
  return Buffer.from(`v1|${listKey}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]{1,600}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith('v1|') || !isListKey(text.slice(3))) {
    throw new InvalidEventQuery('invalid_cursor', 'cursor is not one this API returned: pass nextCursor unchanged.');
  }
  return text.slice(3);
}

/** `ClerkRequestFailed: Clerk answered 404` → type and message; a message without a type stays whole. */
export function splitError(error: string | null): EventListItem['error'] {
  if (!error) return null;
  const match = /^([A-Z][A-Za-z0-9]*(?:Error|Failure|Failed|[A-Z][a-z]+)?): ([\s\S]*)$/.exec(error);
  return match ? { type: match[1]!, message: match[2]! } : { type: null, message: error };
}

export function toListItem(doc: ListedEvent): EventListItem {
  return {
    tenantId: doc.tenantId,
    eventId: doc.eventId,
    type: doc.type,
    objectId: doc.objectId ?? null,
    customerId: doc.customerId ?? null,
    account: doc.account ?? null,
    livemode: doc.livemode,
    status: doc.status as EventStatus,
    outcome: doc.outcome ?? null,
    error: splitError(doc.error ?? null),
    reason: doc.reason ?? null,
    attempts: 1 + (doc.reruns ?? 0),
    workflowId: doc.currentWorkflowId ?? doc.workflowId ?? eventWorkflowId(doc.tenantId, doc.eventId),
    runId: doc.runId ?? null,
    receivedAt: doc.receivedAt.toISOString(),
    lastReceivedAt: (doc.lastReceivedAt ?? doc.receivedAt).toISOString(),
    processedAt: doc.processedAt ? doc.processedAt.toISOString() : null,
  };
}

/** The store's filter for one tenant: the list key range carries since/until and the cursor. */
export function storeFilterOf(query: EventFilter & { cursor?: string }, tenantId: string): EventListFilter {
  return {
    tenantId,
    status: query.status,
    type: query.type,
    objectId: query.objectId,
    customerId: query.customerId,
    account: query.accountId,
    since: query.since,
    until: query.until,
    before: query.cursor === undefined ? undefined : decodeCursor(query.cursor),
  };
}

/** Tenants to search when none is named: the default one and every stored one. */
async function allTenants(stores: Pick<Stores, 'tenants'>, defaultTenant: string): Promise<string[]> {
  const stored = await stores.tenants.list();
  return [...new Set([defaultTenant, ...stored.map((tenant) => tenant.tenantId)])];
}

/**
 * The stored event with this id: in the named tenant, or in whichever tenant holds it (one `_id`
 * lookup per tenant). EventNotFound / AmbiguousEventId when that is not exactly one.
 */
export async function locateEvent(
  stores: Pick<Stores, 'events' | 'tenants'>,
  defaultTenant: string,
  eventId: string,
  tenantId?: string,
): Promise<StripeEventDoc> {
  parseEventId(eventId);
  const tenants = tenantId ? [parseTenantId(tenantId)] : await allTenants(stores, defaultTenant);
  const found = (await Promise.all(tenants.map((tenant) => stores.events.find(tenant, eventId)))).filter(
    (doc) => doc !== null,
  );
  if (found.length === 0) {
    throw new EventNotFound(`No stored event ${eventId}${tenantId ? ` in tenant ${tenantId}` : ''}.`);
  }
  if (found.length > 1) {
    throw new AmbiguousEventId(
      `${eventId} is stored under tenants ${found.map((doc) => doc.tenantId).join(', ')}: name one with tenant.`,
    );
  }
  return found[0]!;
}

export function createEventQueries(deps: EventQueriesDeps): EventQueries {
  const { stores } = deps;

  return {
    async list(query) {
      const tenants = query.tenantId ? [query.tenantId] : await allTenants(stores, deps.defaultTenant);
      // One indexed query per tenant (each at most `limit + 1` rows), merged newest first: every
      // index leads with the tenant, so no query ever spans tenants.
      const pages = await Promise.all(
        tenants.map((tenantId) => stores.events.listEvents(storeFilterOf(query, tenantId), query.limit + 1)),
      );
      const merged = pages.flat().sort((a, b) => (a.listKey < b.listKey ? 1 : a.listKey > b.listKey ? -1 : 0));
      const rows = merged.slice(0, query.limit);
      const nextCursor = merged.length > query.limit ? encodeCursor(rows.at(-1)!.listKey) : null;
      return { events: rows.map(toListItem), nextCursor };
    },

    async show(eventId, tenantId) {
      const doc = await locateEvent(stores, deps.defaultTenant, eventId, tenantId);
      return assembleDetail(deps, doc as unknown as ListedEvent & StoredFields);
    },
  };
}

interface StoredFields {
  rawBody: string;
  apiVersion: string | null;
  eventCreated: number;
  resource: string;
}

async function assembleDetail(deps: EventQueriesDeps, doc: ListedEvent & StoredFields): Promise<EventDetail> {
  const { stores } = deps;
  const item = toListItem(doc);
  const [objectState, cases, deliveries, reruns, run] = await Promise.all([
    doc.objectId ? stores.objectState.get(doc.tenantId, doc.resource, doc.objectId) : Promise.resolve(null),
    // A case's id is derived from the dispute / warning id (`case_<object id>`): an `_id` lookup.
    doc.objectId ? stores.cases.getCase(caseIdFor(doc.objectId), doc.tenantId) : Promise.resolve(null),
    deps.deliveriesOfEvent ? deps.deliveriesOfEvent(doc.tenantId, doc.eventId) : Promise.resolve([]),
    stores.reruns.listForEvent(doc.tenantId, doc.eventId, doc.reruns ?? 0, {
      status: doc.status,
      runId: doc.runId ?? null,
    }),
    deps.describeRun ? deps.describeRun(item.workflowId).catch(() => null) : Promise.resolve(null),
  ]);
  // 'processing' is not written on the hot path (one write per event is the receiver's budget):
  // it is what a stored, unfinished event whose run Temporal reports RUNNING is.
  const status: EventStatus = item.status === 'received' && run?.status === 'RUNNING' ? 'processing' : item.status;
  const runId = item.runId ?? run?.runId ?? null;
  return {
    event: {
      ...item,
      status,
      runId,
      apiVersion: doc.apiVersion ?? null,
      eventCreated: doc.eventCreated,
      payload: prettyPayload(doc.rawBody),
    },
    objectState,
    cases: cases ? [withoutId(cases as unknown as Record<string, unknown>)] : [],
    deliveries,
    reruns,
    temporal: {
      workflowId: item.workflowId,
      runId,
      uiUrl: temporalUiLink(deps.temporalUi, item.workflowId, runId),
      runStatus: run?.status ?? null,
    },
  };
}

function withoutId(doc: Record<string, unknown>): Record<string, unknown> {
  const { _id, ...rest } = doc; // eslint-disable-line @typescript-eslint/no-unused-vars
  return rest;
}

function prettyPayload(rawBody: string): string {
  try {
    return JSON.stringify(JSON.parse(rawBody), null, 2);
  } catch {
    return rawBody;
  }
}

/** `<ui>/namespaces/<ns>/workflows/<id>[/<run id>]` — the Temporal UI's own route shape. */
export function temporalUiLink(ui: EventQueriesDeps['temporalUi'], workflowId: string, runId: string | null) {
  if (!ui.uiUrl) return null;
  const base = ui.uiUrl.replace(/\/+$/, '');
  const path = `${base}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}` : path;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = String(value);
  return `'${text.length > 60 ? `${text.slice(0, 60)}…` : text}'`;
}
