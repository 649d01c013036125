import { AppError } from '../errors';
import { eventWorkflowId } from '../contracts';
import type { EventSummary } from './event-summary';

/**
 * What a verified event must satisfy before it is acknowledged, so that everything downstream can
 * process it. A delivery acknowledged with 200 is never retried by Stripe: an event Temporal or the
 * worker can never handle must be refused here, not found stuck later.
 *
 * Where the numbers come from:
 * - Stripe: "object IDs … will never exceed 255 characters" (docs.stripe.com/upgrades, backwards
 *   compatible changes), and event types are dotted lowercase words (`customer.subscription.updated`).
 * - Temporal: workflow ids are at most 1,000 bytes (`limit.maxIDLength`), a Keyword search-attribute
 *   value at most 2,048 bytes (`limit.maxSearchAttributeValueSize`), and gRPC refuses strings that
 *   are not valid UTF-8 (a lone surrogate such as `"\ud83d"` cannot be encoded).
 * - MongoDB: BSON documents nest at most 100 levels ("Nested Depth for BSON Documents"); FerretDB
 *   refuses NUL in strings. Payloads are stored as JSON strings, but the activities parse and
 *   re-serialise them recursively, so the depth bounds their stack too.
 */
export const EVENT_LIMITS = {
  /** Event id: Stripe's id alphabet, at most 255 characters. */
  idPattern: /^[A-Za-z0-9_-]+$/,
  idMaxLength: 255,
  /** Event type: dotted lowercase words. */
  typePattern: /^[a-z0-9_]+(\.[a-z0-9_]+)*$/,
  typeMaxLength: 255,
  /** `data.object.id`, the customer id and the account (search attributes and state-table keys). */
  objectIdMaxLength: 255,
  workflowIdMaxBytes: 1_000,
  searchAttributeMaxBytes: 2_048,
  maxDepth: 100,
} as const;

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001F\u007F]/;

// How a lone surrogate gets into parsed JSON: a `\uD800`–`\uDFFF` escape. The text itself cannot
// hold one — it was decoded from UTF-8 with `fatal: true` — so a text without such an escape (false
// positives such as `\\uD8` only cost the full check) yields no lone surrogate.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Walks the parsed body once: every key and string must be well-formed Unicode, and nothing may
 * nest deeper than `maxDepth`. Stops at the first problem, so a hostile body costs one bounded walk.
 * Given the text it was parsed from, strings are only checked when the text has a surrogate escape
 * (the receiver's hot path: no allocation, no regular expression per string).
 */
export function checkJsonShape(value: unknown, parsedFrom?: string): void {
  walkJson(value, 0, parsedFrom === undefined || SURROGATE_ESCAPE.test(parsedFrom));
}

// Recursive: the depth check bounds it at maxDepth frames.
function walkJson(value: unknown, depth: number, checkStrings: boolean): void {
  if (typeof value === 'string') {
    if (checkStrings && LONE_SURROGATE.test(value)) throw invalidUnicode();
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (depth >= EVENT_LIMITS.maxDepth) {
    throw new AppError(
      400,
      'too_deeply_nested',
      `The event nests deeper than ${EVENT_LIMITS.maxDepth} levels (MongoDB's document nesting limit); Stripe events never do.`,
    );
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) walkJson(value[index], depth + 1, checkStrings);
    return;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (checkStrings && LONE_SURROGATE.test(key)) throw invalidUnicode();
    walkJson(object[key], depth + 1, checkStrings);
  }
}

/** The fields that become workflow ids, search attributes and database keys. */
export function checkEventLimits(tenantId: string, summary: EventSummary): void {
  const { eventId, type } = summary;
  if (eventId.length > EVENT_LIMITS.idMaxLength || !EVENT_LIMITS.idPattern.test(eventId)) {
    throw new AppError(
      400,
      'event_id_invalid',
      `The event id must be 1–${EVENT_LIMITS.idMaxLength} characters of A–Z, a–z, 0–9, '_' or '-' (Stripe's evt_… ids).`,
    );
  }
  if (Buffer.byteLength(eventWorkflowId(tenantId, eventId)) > EVENT_LIMITS.workflowIdMaxBytes) {
    throw new AppError(
      400,
      'event_id_invalid',
      `The workflow id of this event would exceed Temporal's ${EVENT_LIMITS.workflowIdMaxBytes}-byte limit.`,
    );
  }
  if (type.length > EVENT_LIMITS.typeMaxLength || !EVENT_LIMITS.typePattern.test(type)) {
    throw new AppError(
      400,
      'event_type_invalid',
      `The event type must be dotted lowercase words (like customer.subscription.updated), at most ${EVENT_LIMITS.typeMaxLength} characters.`,
    );
  }
  checkId(summary.objectId, 'object_id_invalid', 'data.object.id');
  checkId(summary.customerId, 'customer_id_invalid', 'The customer id');
  // Stripe Connect: kept on every record and a search attribute (StripeAccountId), like the ids above.
  checkId(summary.account ?? null, 'account_invalid', 'The connected account id (`account`; thin events: `context`)');
  if (!Number.isSafeInteger(summary.created) || summary.created < 0) {
    throw new AppError(400, 'event_created_invalid', 'The event `created` must be a Unix timestamp in seconds.');
  }
}

function checkId(value: string | null, code: string, what: string): void {
  if (value === null) return;
  if (
    value.length === 0 ||
    value.length > EVENT_LIMITS.objectIdMaxLength ||
    CONTROL.test(value) ||
    LONE_SURROGATE.test(value)
  ) {
    throw new AppError(
      400,
      code,
      `${what} must be 1–${EVENT_LIMITS.objectIdMaxLength} characters without control characters (Stripe ids never exceed 255).`,
    );
  }
}

function invalidUnicode(): AppError {
  return new AppError(
    400,
    'invalid_unicode',
    'The event contains a lone UTF-16 surrogate (a \\ud800–\\udfff escape without its pair); it cannot be processed.',
  );
}
