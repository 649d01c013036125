import type Stripe from 'stripe';
import type { StripeApiConfig } from '../config';
import type { TenantStore } from '../stores/tenant-store';
import { createStripeClient, stripeModeOf, type StripeMode } from './stripe-api';

export interface TenantStripeClient {
  client: Stripe;
  /** Picks the task queue (and so the rate limit) of its requests. */
  mode: StripeMode;
}

export interface StripeClientResolver {
  /**
   * The tenant's Stripe client, or null when no key is configured for it. The default tenant uses
   * STRIPE_API_KEY; a stored tenant its sealed key of `environment` (without one named: its live
   * key, else its sandbox key).
   */
  clientFor(tenantId: string, environment?: StripeMode): Promise<TenantStripeClient | null>;
}

export interface StripeClientResolverDeps {
  api: StripeApiConfig;
  defaultTenant: string;
  tenants: Pick<TenantStore, 'stripeApiKey'> | null;
}

/** Clients are cached per key: the SDK keeps its HTTP agent (and connections) per client. */
export function createStripeClientResolver(deps: StripeClientResolverDeps): StripeClientResolver {
  const clients = new Map<string, TenantStripeClient>();
  const clientOf = (apiKey: string): TenantStripeClient => {
    let entry = clients.get(apiKey);
    if (!entry) {
      entry = { client: createStripeClient(apiKey, deps.api), mode: stripeModeOf(apiKey) };
      clients.set(apiKey, entry);
    }
    return entry;
  };

  return {
    async clientFor(tenantId, environment) {
      if (tenantId === deps.defaultTenant && deps.api.apiKey) {
        const entry = clientOf(deps.api.apiKey);
        return environment && environment !== entry.mode ? null : entry;
      }
      if (!deps.tenants) return null;
      for (const candidate of environment ? [environment] : (['live', 'sandbox'] as const)) {
        const key = await deps.tenants.stripeApiKey(tenantId, candidate);
        if (key) return clientOf(key);
      }
      return null;
    },
  };
}
