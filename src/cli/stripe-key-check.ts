import { requireMasterKey, type Config } from '../config';
import { connectDatabase } from '../db/connection';
import { storeOptionsFromConfig } from '../stores';
import { CliError, databaseUnreachable } from './cli-errors';

/**
 * Fails with one line before anything starts when the tenant has no Stripe API key: the run would
 * only fail in the worker a moment later.
 */
export async function requireStripeKey(
  config: Config,
  tenantId: string,
  environment: 'live' | 'sandbox' | undefined,
): Promise<void> {
  if (tenantId === config.defaultTenant && config.stripeApi.apiKey) {
    const mode = /^(sk|rk)_live_/.test(config.stripeApi.apiKey) ? 'live' : 'sandbox';
    if (environment && environment !== mode) {
      throw new CliError(`STRIPE_API_KEY is a ${mode} key; --environment ${environment} needs a stored tenant's key.`);
    }
    return;
  }
  if (tenantId === config.defaultTenant && !config.tenants.masterKey) {
    throw new CliError(
      'no Stripe API key: set STRIPE_API_KEY (a secret key or a restricted key with read access), or name a stored tenant with --tenant.',
    );
  }
  requireMasterKey(config);
  const db = await connectDatabase(config.mongoUrl, storeOptionsFromConfig(config)).catch((error: unknown) => {
    throw databaseUnreachable(error, config.mongoUrl) ?? error;
  });
  try {
    const tenant = await db.stores.tenants.get(tenantId);
    if (!tenant) throw new CliError(`tenant '${tenantId}' does not exist (hookflow tenants list).`);
    const has = environment
      ? tenant.stripeApiKeys[environment]
      : (tenant.stripeApiKeys.live ?? tenant.stripeApiKeys.sandbox);
    if (!has) {
      throw new CliError(
        `no Stripe API key for tenant ${tenantId}${environment ? ` (${environment})` : ''}: store one with \`hookflow tenants rotate-secret ${tenantId} --environment <live|sandbox> --stripe-api-key-file -\`${tenantId === config.defaultTenant ? ' or set STRIPE_API_KEY' : ''}.`,
      );
    }
  } finally {
    await db.close();
  }
}
