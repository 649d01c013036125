import { AppError } from '../errors';

export type StripeEnvironment = 'live' | 'sandbox';

export interface TenantSecrets {
  tenantId: string;
  secrets: string[];
  /**
   * The environment whose secrets these are; undefined in single-tenant mode, whose
   * STRIPE_WEBHOOK_SECRET is not split by environment.
   */
  environment?: StripeEnvironment;
}

export interface TenantSelector {
  /** `org_id` query parameter or `:tenant` path segment, if any. */
  tenant: string | undefined;
  environment: StripeEnvironment | undefined;
  apiKey: string | undefined;
}

/** Finds the tenant a delivery is for and the secrets that may have signed it. */
export type TenantResolver = (selector: TenantSelector) => Promise<TenantSecrets>;

/**
 * Single-tenant mode: one tenant, its secrets from STRIPE_WEBHOOK_SECRET. A delivery naming any
 * other tenant is refused, so a misrouted endpoint fails loudly instead of mixing data. The
 * receiver runs in this mode exactly when HOOKFLOW_MASTER_KEY is unset, and a tenant added with
 * `hookflow tenants add` (which needs the key) is then listed but not served: the 401 says so.
 */
export function createSingleTenantResolver(defaultTenant: string, secrets: string[]): TenantResolver {
  return async (selector) => {
    if (selector.tenant !== undefined && selector.tenant !== defaultTenant) {
      throw new AppError(
        401,
        'unknown_tenant',
        `Unknown tenant '${selector.tenant}'. This receiver has no HOOKFLOW_MASTER_KEY, so it serves only the default tenant '${defaultTenant}': tenants stored with \`hookflow tenants add\` are served once the receiver is restarted with HOOKFLOW_MASTER_KEY set.`,
      );
    }
    return { tenantId: defaultTenant, secrets };
  };
}
