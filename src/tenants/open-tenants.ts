import type { Config } from '../config';
import type { Logger } from '../logger';
import { createSingleTenantResolver, type TenantResolver } from '../receiver/tenants';
import type { TenantStore } from '../stores/tenant-store';
import { createSecretBox } from './secret-box';
import { createTenantResolver } from './tenant-resolver';

/**
 * The receiver's resolver. Without HOOKFLOW_MASTER_KEY it is single-tenant mode exactly as before
 * (stored tenants cannot be decrypted, so they are reported, not served). With it, stored tenants
 * are served beside the STRIPE_WEBHOOK_SECRET default tenant.
 */
export async function createReceiverTenantResolver(
  config: Config,
  tenants: TenantStore,
  log: Logger,
): Promise<TenantResolver> {
  const single = { defaultTenant: config.defaultTenant, secrets: config.stripe.webhookSecrets };
  if (!config.tenants.masterKey) {
    const stored = await tenants.count();
    if (stored > 0) {
      log.warn(
        { stored },
        'tenants are stored but HOOKFLOW_MASTER_KEY is not set: only the default tenant is served, deliveries for stored tenants get 401 unknown_tenant; set HOOKFLOW_MASTER_KEY and restart',
      );
    }
    return createSingleTenantResolver(single.defaultTenant, single.secrets);
  }
  if (single.secrets.length > 0 && (await tenants.get(single.defaultTenant))) {
    log.warn(
      { tenantId: single.defaultTenant },
      'a stored tenant has the default tenant id; STRIPE_WEBHOOK_SECRET defines that tenant, so the stored one is not used',
    );
  }
  return createTenantResolver({
    store: tenants,
    secretBox: createSecretBox(config.tenants.masterKey),
    single,
    log,
    cacheSeconds: config.tenants.cacheSeconds,
  });
}
