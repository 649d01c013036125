import Stripe from 'stripe';
import type { StripeApiConfig } from '../config';

/** A Stripe key's mode: `sk_live_`/`rk_live_` → live, `sk_test_`/`rk_test_` → sandbox. */
export type StripeMode = 'live' | 'sandbox';

export class StripeApiKeyError extends Error {
  override readonly name = 'StripeApiKeyError';
}

const KEY_PATTERN = /^(sk|rk)_(live|test)_\S{8,}$/;

/** Checks a secret or restricted key's shape (never echoing it) and returns its mode. */
export function stripeModeOf(apiKey: string): StripeMode {
  const match = KEY_PATTERN.exec(apiKey);
  if (!match) {
    throw new StripeApiKeyError(
      'A Stripe API key is sk_live_…, sk_test_…, rk_live_… or rk_test_… (a restricted key with read access is enough); copy it from Developers → API keys.',
    );
  }
  return match[2] === 'live' ? 'live' : 'sandbox';
}

/**
 * A Stripe SDK client for one key, pointed at STRIPE_API_BASE. The SDK's own retries are off:
 * Temporal owns retries (house style rule 6), and stripe-node would not retry a plain 429 anyway.
 * Built inside activities and CLI commands only — never in workflow code.
 */
export function createStripeClient(apiKey: string, api: Pick<StripeApiConfig, 'base' | 'timeoutMs'>): Stripe {
  const base = new URL(api.base);
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(apiKey, {
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 0,
    timeout: api.timeoutMs,
    telemetry: false,
    appInfo: { name: 'hookflow' },
  });
}

/** Stripe's answer for an id it does not have (or no longer has: most deleted objects): 404 `resource_missing`. */
export function isResourceMissing(error: unknown): boolean {
  return (
    error instanceof Stripe.errors.StripeInvalidRequestError &&
    error.statusCode === 404 &&
    error.code === 'resource_missing'
  );
}

/** What the API's answer amounts to for an object it no longer has: the deleted stub Stripe returns for customers. */
export function deletedStub(id: string, objectType: string): Record<string, unknown> {
  return { id, object: objectType, deleted: true };
}
