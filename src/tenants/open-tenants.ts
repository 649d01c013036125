import type { Connection } from 'mongoose';
import { requireMasterKey, type Config } from '../config';
import { bindLockModel } from '../stores/locks';
import type { Logger } from '../logger';
import { createSingleTenantResolver, type TenantResolver } from '../receiver/tenants';
import { createSecretBox } from './secret-box';
import { bindTenantModel } from './tenant-model';
import { createTenantResolver } from './tenant-resolver';
import { createTenantStore, type TenantStore } from './tenant-store';

/** The tenant store on an open connection, its unique index built; needs HOOKFLOW_MASTER_KEY. */
export async function openTenantStore(connection: Connection, config: Config): Promise<TenantStore> {
  const secretBox = createSecretBox(requireMasterKey(config));
  const model = bindTenantModel(connection);
  await model.createIndexes();
  return createTenantStore({
    model,
    secretBox,
    reservedTenantIds: config.stripe.webhookSecrets.length > 0 ? [config.defaultTenant] : [],
    locks: bindLockModel(connection),
  });
}

/**
 * The receiver's resolver. Without HOOKFLOW_MASTER_KEY it is single-tenant mode exactly as before
 * (stored tenants cannot be decrypted, so they are reported, not served). With it, stored tenants
 * are served beside the STRIPE_WEBHOOK_SECRET default tenant.
 */
export async function createReceiverTenantResolver(
  config: Config,
  connection: Connection,
  log: Logger,
): Promise<TenantResolver> {
  const model = bindTenantModel(connection);
  const single = { defaultTenant: config.defaultTenant, secrets: config.stripe.webhookSecrets };
  if (!config.tenants.masterKey) {
    const stored = await model.countDocuments();
    if (stored > 0) {
      log.error({ stored }, 'tenants are stored but HOOKFLOW_MASTER_KEY is not set: only the default tenant is served');
    }
    return createSingleTenantResolver(single.defaultTenant, single.secrets);
  }
  const store = await openTenantStore(connection, config);
  if (single.secrets.length > 0 && (await model.exists({ tenantId: single.defaultTenant }))) {
    log.warn(
      { tenantId: single.defaultTenant },
      'a stored tenant has the default tenant id; STRIPE_WEBHOOK_SECRET defines that tenant, so the stored one is not used',
    );
  }
  return createTenantResolver({
    store,
    secretBox: createSecretBox(config.tenants.masterKey),
    single,
    log,
    cacheSeconds: config.tenants.cacheSeconds,
  });
}
