import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
import { BUSINESS_HANDLERS } from '../contracts';
import { REPO_ROOT } from '../version';

/**
 * Realistic Stripe events without a Stripe account: Stripe's own example object for each resource
 * (openapi `fixtures3.json`, MIT, in fixtures/), wrapped in an Event envelope and signed the way
 * Stripe signs. Used by `hookflow trigger`, the benchmark and the tests.
 */
let fixtures: Record<string, Record<string, unknown>> | undefined;

function fixtureResources(): Record<string, Record<string, unknown>> {
  fixtures ??= (
    JSON.parse(readFileSync(join(REPO_ROOT, 'fixtures', 'stripe-fixtures3.json'), 'utf8')) as {
      resources: Record<string, Record<string, unknown>>;
    }
  ).resources;
  return fixtures;
}

export type StripeObject = Record<string, unknown> & { id: string; object: string };

export interface StripeEventPayload {
  id: string;
  object: 'event';
  type: string;
  created: number;
  livemode: boolean;
  api_version: string;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
}

/** A deep copy of Stripe's example `resource`, with overrides applied on top. */
export function stripeObject(resource: string, overrides: Record<string, unknown> = {}): StripeObject {
  const fixture = fixtureResources()[resource];
  if (!fixture) throw new Error(`no Stripe example object for resource '${resource}'`);
  return { ...(structuredClone(fixture) as StripeObject), ...overrides };
}

/**
 * Stripe's example object as if it had just been created: every timestamp moved so that `created`
 * is `now`, and every id given a fresh random part (same prefix; one original id → one new id, so
 * references inside the object stay consistent). Overrides are applied afterwards, untouched.
 *
 * The fixtures' dates are placeholders (most `created` are 2009-02-13, others anywhere from 1973
 * to 2030). Each timestamp keeps its side of `created` and its order, and its distance to
 * `created` is compressed to under 30 days: an evidence deadline stays after the dispute, but
 * not fifteen years after it. `stripeObject` keeps the fixture values for tests that need them.
 */
export function exampleObject(
  resource: string,
  overrides: Record<string, unknown> = {},
  now: number = Date.now(),
): StripeObject {
  const fixture = stripeObject(resource);
  const anchor = typeof fixture.created === 'number' ? fixture.created : null;
  const nowSeconds = Math.floor(now / 1000);
  const freshIds = new Map<string, string>();
  const refresh = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => refresh(item, key));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([name, inner]) => [name, refresh(inner, name)]));
    }
    if (typeof value === 'number' && anchor !== null && isTimestamp(key, value)) {
      return nowSeconds + compressedGap(value - anchor);
    }
    if (typeof value === 'string') {
      const id = STRIPE_ID.exec(value);
      if (id && /[0-9A-Z]/.test(id[2]!)) {
        if (!freshIds.has(value)) freshIds.set(value, `${id[1]}${randomAlphanumeric(id[2]!.length)}`);
        return freshIds.get(value);
      }
    }
    return value;
  };
  return { ...(refresh(fixture, '') as StripeObject), ...overrides };
}

/** Stripe names Unix-seconds fields like these (`created`, `expires_at`, `due_by`, `trial_end`, `period.start`, …). */
const TIMESTAMP_KEY =
  /^(created|updated|date|start|end|expires|deadline|due_by|redeem_by|timestamp|available_on|next_payment_attempt)$|_(at|date|start|end|time|until|anchor)$/;
/** `ch_3Mm…`, `cs_test_a1YS…`: a lowercase prefix, then a random part (checked for a digit or capital). */
const STRIPE_ID = /^([a-z]+_(?:test_|live_)?)([A-Za-z0-9]{14,})$/;
const MAX_GAP_SECONDS = 30 * 24 * 60 * 60;

function isTimestamp(key: string, value: number): boolean {
  // Above 1e8 (1973): the fixtures' small numbers under such keys are not dates.
  return Number.isInteger(value) && value > 1e8 && TIMESTAMP_KEY.test(key);
}

/** Monotonic and below MAX_GAP_SECONDS in size: short gaps stay almost as they are, long ones shrink. */
function compressedGap(seconds: number): number {
  const size = Math.abs(seconds);
  return Math.sign(seconds) * Math.round((MAX_GAP_SECONDS * size) / (size + MAX_GAP_SECONDS));
}

function randomAlphanumeric(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');
}

/**
 * The example object an event type carries: `charge.dispute.created` → `dispute`,
 * `checkout.session.completed` → `checkout.session`, `customer.subscription.updated` → `subscription`.
 * Null when Stripe has no example object for it.
 */
export function findResourceForEventType(type: string): string | null {
  const path = type.split('.').slice(0, -1);
  if (path.length === 0) return null;
  const resources = fixtureResources();
  for (const candidate of [path.join('.'), path.at(-1)!]) {
    if (candidate in resources) return candidate;
  }
  return null;
}

export function resourceForEventType(type: string): string {
  const resource = findResourceForEventType(type);
  if (!resource) throw new Error(`no Stripe example object for event type '${type}'`);
  return resource;
}

/**
 * Event types worth triggering: those with a business handler, then common state-only ones. Any
 * `<resource>.<action>` whose resource has an example object works too.
 */
export const SUGGESTED_EVENT_TYPES: readonly string[] = [
  ...Object.keys(BUSINESS_HANDLERS),
  'customer.created',
  'customer.updated',
  'customer.subscription.created',
  'invoice.paid',
  'invoice.payment_failed',
  'payment_intent.succeeded',
  'charge.refunded',
];

export function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

/** An Event envelope as Stripe sends it, with a fresh event id. */
export function stripeEvent(
  type: string,
  object: StripeObject,
  options: { created?: number; previousAttributes?: Record<string, unknown>; id?: string; livemode?: boolean } = {},
): StripeEventPayload {
  return {
    id: options.id ?? uniqueId('evt'),
    object: 'event',
    type,
    created: options.created ?? Math.floor(Date.now() / 1000),
    livemode: options.livemode ?? false,
    api_version: '2026-07-29',
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object, ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}) },
  };
}

/** Signs a body exactly as Stripe does (`t=…,v1=…`), with the official SDK's helper. */
export function signatureHeader(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}

export interface Delivery {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs a body to a receiver the way Stripe does. */
export async function deliver(url: string, body: string, headers: Record<string, string>): Promise<Delivery> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      ...headers,
    },
    body,
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed };
}

/** Serialises, signs and delivers an event. */
export async function deliverEvent(url: string, event: StripeEventPayload, secret: string): Promise<Delivery> {
  const body = JSON.stringify(event, null, 2);
  return deliver(url, body, { 'stripe-signature': signatureHeader(body, secret) });
}
