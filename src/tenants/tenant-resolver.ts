import { AppError } from '../errors';
import type { Logger } from '../logger';
import type { StripeEnvironment, TenantResolver, TenantSecrets } from '../receiver/tenants';
import { sealContext, type TenantStore } from '../stores/tenant-store';
import { apiKeyMatches } from './api-key';
import { SecretBoxError, type SecretBox } from './secret-box';

export interface TenantResolverDeps {
  store: Pick<TenantStore, 'findRecord'>;
  secretBox: SecretBox;
  /** Single-tenant mode: the default tenant and its STRIPE_WEBHOOK_SECRET secrets (may be empty). */
  single: { defaultTenant: string; secrets: string[] };
  /**
   * How long a lookup (found or not) is reused. It bounds how late a rotation, a removal or a new
   * tenant is seen by every running receiver. Stripe retries refused deliveries, so a few seconds of
   * lag cost nothing, while a database round trip per delivery would.
   */
  cacheSeconds?: number;
  /** Bounds memory when deliveries name many unknown tenants. */
  maxCachedTenants?: number;
  log?: Logger;
  now?: () => number;
}

interface OpenedTenant {
  secrets: Record<StripeEnvironment, string[]>;
  apiKeyHash: string | null;
}

interface CacheEntry {
  expiresAt: number;
  tenant: Promise<OpenedTenant | null>;
}

/**
 * Multi-tenant resolution with single-tenant mode kept as it was:
 * - no tenant named → the default tenant;
 * - the default tenant, while STRIPE_WEBHOOK_SECRET is set → those secrets, never the database
 *   (the store refuses to create a tenant with that id; an existing one is reported at startup);
 * - any other tenant → the database; unknown → 401, wrong or missing api key (when it has one) →
 *   401, then `environment` is required (400) and only that environment's secrets are returned.
 */
export function createTenantResolver(deps: TenantResolverDeps): TenantResolver {
  const ttlMs = (deps.cacheSeconds ?? 5) * 1000;
  const maxCached = deps.maxCachedTenants ?? 10_000;
  const now = deps.now ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const { defaultTenant, secrets: singleSecrets } = deps.single;

  const load = async (tenantId: string): Promise<OpenedTenant | null> => {
    const record = await deps.store.findRecord(tenantId);
    if (!record) return null;
    const secrets: OpenedTenant['secrets'] = { live: [], sandbox: [] };
    for (const entry of record.stripeSecrets) {
      secrets[entry.environment].push(
        deps.secretBox.open(entry.sealed, sealContext.stripe(tenantId, entry.environment)),
      );
    }
    return { secrets, apiKeyHash: record.apiKeyHash };
  };

  const lookup = (tenantId: string): Promise<OpenedTenant | null> => {
    const at = now();
    const cached = cache.get(tenantId);
    if (cached && cached.expiresAt > at) return cached.tenant;
    cache.delete(tenantId);
    if (cache.size >= maxCached) cache.delete(cache.keys().next().value!); // oldest insertion first
    // The promise itself is cached, so concurrent deliveries for one tenant share one query.
    const tenant = load(tenantId);
    cache.set(tenantId, { expiresAt: at + ttlMs, tenant });
    // A failed lookup is not remembered: the next delivery asks the database again.
    tenant.catch(() => {
      if (cache.get(tenantId)?.tenant === tenant) cache.delete(tenantId);
    });
    return tenant;
  };

  return async (selector): Promise<TenantSecrets> => {
    const tenantId = selector.tenant ?? defaultTenant;
    if (tenantId === defaultTenant && singleSecrets.length > 0) {
      return { tenantId, secrets: singleSecrets };
    }
    let tenant: OpenedTenant | null;
    try {
      tenant = await lookup(tenantId);
    } catch (error) {
      throw lookupFailure(error, tenantId, deps.log);
    }
    if (!tenant) {
      // Same answer single-tenant mode gave before tenants existed: the default tenant with no
      // secret configured is refused by verification (401 no_signing_secret).
      if (tenantId === defaultTenant) return { tenantId, secrets: [] };
      throw new AppError(401, 'unknown_tenant', `Unknown tenant '${tenantId}'.`);
    }
    if (tenant.apiKeyHash !== null && !apiKeyMatches(selector.apiKey, tenant.apiKeyHash)) {
      throw new AppError(401, 'invalid_api_key', 'The api_key query parameter is missing or wrong for this tenant.');
    }
    if (selector.environment === undefined) {
      throw new AppError(
        400,
        'missing_environment',
        "Add environment=live or environment=sandbox to this endpoint's URL: each is verified only with its own secrets.",
      );
    }
    return { tenantId, environment: selector.environment, secrets: tenant.secrets[selector.environment] };
  };
}

function lookupFailure(error: unknown, tenantId: string, log: Logger | undefined): AppError {
  if (error instanceof SecretBoxError) {
    log?.error({ err: error, tenantId }, 'stored tenant secrets cannot be opened; check HOOKFLOW_MASTER_KEY');
    return new AppError(500, 'tenant_secrets_unreadable', 'internal error', false);
  }
  log?.error({ err: error, tenantId }, 'tenant lookup failed');
  // 503 rather than 500: the database is the likely cause, and Stripe retries either way.
  return new AppError(503, 'tenant_store_unavailable', 'Tenants cannot be read right now; Stripe will retry.', true);
}
