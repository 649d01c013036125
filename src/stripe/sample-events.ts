import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Stripe from 'stripe';
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
 * The example object an event type carries: `charge.dispute.created` → `dispute`,
 * `checkout.session.completed` → `checkout.session`, `customer.subscription.updated` → `subscription`.
 */
export function resourceForEventType(type: string): string {
  const path = type.split('.').slice(0, -1);
  const resources = fixtureResources();
  for (const candidate of [path.join('.'), path.at(-1) ?? '']) {
    if (candidate in resources) return candidate;
  }
  throw new Error(`no Stripe example object for event type '${type}'`);
}

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
