import { Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { requireMasterKey } from '../config';
import type { StripeEnvironment } from '../receiver/tenants';
import { generateApiKey } from '../tenants/api-key';
import { TenantStoreError, type TenantStore, type TenantView } from '../stores/tenant-store';
import { storeCommandRunner, type StoreCommandIo } from './store-command';

export type TenantsCommandDeps = StoreCommandIo;

/**
 * `hookflow tenants …`: the operator's way to add tenants and rotate their Stripe signing secrets.
 * Secrets are sealed before they reach the database and are never printed back; only a generated
 * api key is shown, once, because only its hash is kept.
 */
export function tenantsCommand(deps: TenantsCommandDeps = {}): Command {
  const { withStore, output } = storeCommandRunner<TenantStore>(
    {
      name: 'tenants',
      precheck: requireMasterKey,
      userErrors: [TenantStoreError],
      store: (stores) => stores.tenants,
    },
    deps,
  );

  const tenants = new Command('tenants').description(
    'manage tenants kept in the database: Stripe signing secrets per environment, api key, Clerk settings',
  );

  tenants
    .command('add <id>')
    .description('add a tenant (an org/profile UUID or a slug); deliveries name it with ?org_id=<id>')
    .option('--live-secret <whsec>', 'signing secret of the live-mode endpoint (repeatable)', collect, [])
    .option('--sandbox-secret <whsec>', 'signing secret of the sandbox endpoint (repeatable)', collect, [])
    .addOption(new Option('--api-key <key>', 'api key deliveries must carry as ?api_key=').conflicts('generateApiKey'))
    .option('--generate-api-key', 'generate a random api key and print it once')
    .option('--clerk-secret-key <key>', "the tenant's Clerk secret key (stored encrypted)")
    .option('--clerk-api-url <url>', 'Clerk API base URL for this tenant')
    .option(STRIPE_KEY_FILE_FLAG, STRIPE_KEY_FILE_HELP, collect, [])
    .option('--json', 'print JSON')
    .action(async (id: string, options: AddOptions) => {
      const apiKey = options.generateApiKey ? generateApiKey() : options.apiKey;
      await withStore(async (store) => {
        const stripeApiKeys = await Promise.all(options.stripeApiKeyFile.map(readKeyFile));
        const tenant = await store.add({
          stripeApiKeys,
          tenantId: id,
          secrets: { live: options.liveSecret, sandbox: options.sandboxSecret },
          apiKey,
          clerk: { secretKey: options.clerkSecretKey, apiUrl: options.clerkApiUrl },
        });
        const generated = options.generateApiKey ? apiKey : undefined;
        output(
          options.json,
          { tenant, ...(generated ? { apiKey: generated } : {}) },
          [
            describe(tenant),
            ...(generated ? [`  api key (shown once, only its hash is stored): ${generated}`] : []),
            `  endpoint: POST /webhooks/stripe?org_id=${id}&environment=live|sandbox${tenant.hasApiKey ? '&api_key=<api key>' : ''}`,
          ].join('\n'),
        );
      });
    });

  tenants
    .command('list')
    .description('list tenants with their secrets masked')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withStore(async (store) => {
        const all = await store.list();
        output(options.json, all, all.length === 0 ? 'no tenants' : all.map(describe).join('\n'));
      });
    });

  tenants
    .command('rotate-secret <id>')
    .description(
      'add a signing secret; both old and new verify until the old one is removed (run again with --remove-old once Stripe has expired it)',
    )
    .addOption(
      new Option('--environment <environment>', 'which endpoint').choices(['live', 'sandbox']).makeOptionMandatory(),
    )
    .option('--secret <whsec>', 'the new signing secret')
    .option(STRIPE_KEY_FILE_FLAG, `${STRIPE_KEY_FILE_HELP}; replaces the key of its environment`, collect, [])
    .addOption(new Option('--remove-old', 'remove every other secret of this environment').conflicts('keep'))
    .option('--keep <n>', 'keep only the newest n secrets of this environment', positiveInteger)
    .option('--json', 'print JSON')
    .action(async (id: string, options: RotateOptions) => {
      await withStore(async (store) => {
        if (!options.secret && options.stripeApiKeyFile.length === 0) {
          throw new TenantStoreError('Give --secret <whsec_…> and/or --stripe-api-key-file <path|->.');
        }
        const stripeApiKeys = await Promise.all(options.stripeApiKeyFile.map(readKeyFile));
        const keep = options.removeOld ? 1 : options.keep;
        let tenant = options.secret
          ? await store.rotateSecret(id, options.environment, options.secret, { keep })
          : await store.get(id);
        if (!tenant) throw new TenantStoreError(`Tenant '${id}' does not exist.`);
        for (const key of stripeApiKeys) tenant = await store.setStripeApiKey(id, key);
        output(options.json, tenant, describe(tenant));
      });
    });

  tenants
    .command('remove <id>')
    .description('remove a tenant; its deliveries are refused with 401 from then on (stored events are kept)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const removed = await store.remove(id);
        if (!removed) throw new TenantStoreError(`Tenant '${id}' does not exist.`);
        output(options.json, { tenantId: id, removed }, `removed tenant ${id}`);
      });
    });

  return tenants;
}

interface AddOptions {
  liveSecret: string[];
  sandboxSecret: string[];
  apiKey?: string;
  generateApiKey?: boolean;
  clerkSecretKey?: string;
  clerkApiUrl?: string;
  stripeApiKeyFile: string[];
  json?: boolean;
}

interface RotateOptions {
  environment: StripeEnvironment;
  secret?: string;
  stripeApiKeyFile: string[];
  removeOld?: boolean;
  keep?: number;
  json?: boolean;
}

// A key given as an argument would stay in the shell history: it is read from a file or stdin.
const STRIPE_KEY_FILE_FLAG = '--stripe-api-key-file <path|->';
const STRIPE_KEY_FILE_HELP =
  "file holding a Stripe API key (sk_…/rk_…, a read-only restricted key is enough), '-' for stdin; its mode picks the environment (repeatable)";

async function readKeyFile(path: string): Promise<string> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw new TenantStoreError(`Cannot read the Stripe API key from ${path}: ${(error as Error).message}`);
  }
  const key = text.trim();
  if (key === '') throw new TenantStoreError(`No Stripe API key in ${path === '-' ? 'stdin' : path}.`);
  return key;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return parsed;
}

function describe(tenant: TenantView): string {
  const secrets = (environment: StripeEnvironment) =>
    tenant.secrets[environment].map((secret) => secret.masked).join(', ') || '(none)';
  return [
    tenant.tenantId,
    `  live secrets:    ${secrets('live')}`,
    `  sandbox secrets: ${secrets('sandbox')}`,
    `  api key:         ${tenant.hasApiKey ? 'required' : 'none'}`,
    `  stripe api keys: ${[tenant.stripeApiKeys.live, tenant.stripeApiKeys.sandbox].filter(Boolean).join(', ') || '(none)'}`,
    `  clerk:           ${tenant.clerk.hasSecretKey ? 'secret key set' : 'process default'}${tenant.clerk.apiUrl ? `, ${tenant.clerk.apiUrl}` : ''}`,
  ].join('\n');
}
