import type { Connection } from 'mongoose';
import { StripeApiKeyError, stripeModeOf } from '../stripe/stripe-api';
import { API_KEY_MIN_LENGTH, hashApiKey } from '../tenants/api-key';
import type { SecretBox } from '../tenants/secret-box';
import { isDuplicateKeyError } from './duplicate-key';
import { bindLockModel, withLock } from './locks';
import {
  bindTenantModel,
  STRIPE_ENVIRONMENTS,
  TENANT_ID_PATTERN,
  type StoredStripeSecret,
  type TenantDoc,
} from './tenant-schemas';

/** `live` | `sandbox` (the receiver's `environment=` query parameter names the same two). */
type StripeEnvironment = StoredStripeSecret['environment'];

export interface NewTenant {
  tenantId: string;
  /** Stripe signing secrets (`whsec_…`) per environment; at least one in all. */
  secrets: Partial<Record<StripeEnvironment, string[]>>;
  apiKey?: string;
  clerk?: { secretKey?: string; apiUrl?: string };
  /** Stripe API keys (`sk_…`/`rk_…`); the environment of each follows from its mode. */
  stripeApiKeys?: string[];
}

/** What `tenants list` shows: never a secret, only enough to tell secrets apart. */
export interface TenantView {
  tenantId: string;
  secrets: Record<StripeEnvironment, Array<{ masked: string; addedAt: Date }>>;
  hasApiKey: boolean;
  clerk: { hasSecretKey: boolean; apiUrl: string | null };
  /** Masked Stripe API key per environment, or null. */
  stripeApiKeys: Record<StripeEnvironment, string | null>;
  createdAt: Date;
  updatedAt: Date;
}

/** The stored tenant with its secrets still sealed; the resolver opens what it needs. */
export interface TenantRecord {
  tenantId: string;
  stripeSecrets: Array<{ environment: StripeEnvironment; sealed: string }>;
  apiKeyHash: string | null;
}

export interface RotateOptions {
  /** Keep only the newest `keep` secrets of the environment (the new one included); 1 removes every old one. */
  keep?: number;
}

export interface TenantStore {
  add(input: NewTenant): Promise<TenantView>;
  list(): Promise<TenantView[]>;
  get(tenantId: string): Promise<TenantView | null>;
  /** Adds `secret` (idempotent when already active) and optionally retires older ones. */
  rotateSecret(
    tenantId: string,
    environment: StripeEnvironment,
    secret: string,
    options?: RotateOptions,
  ): Promise<TenantView>;
  remove(tenantId: string): Promise<boolean>;
  /** How many tenants are stored (works without the master key: nothing is opened). */
  count(): Promise<number>;
  findRecord(tenantId: string): Promise<TenantRecord | null>;
  /** The tenant's Clerk settings, decrypted, for the worker; null fields fall back to the process config. */
  clerkSettings(tenantId: string): Promise<{ secretKey: string | null; apiUrl: string | null } | null>;
  /** Stores (or replaces) the tenant's Stripe API key of the key's environment. */
  setStripeApiKey(tenantId: string, apiKey: string): Promise<TenantView>;
  /** The tenant's Stripe API key for an environment, decrypted, or null (no tenant or no key). */
  stripeApiKey(tenantId: string, environment: StripeEnvironment): Promise<string | null>;
}

export class TenantStoreError extends Error {
  override readonly name = 'TenantStoreError';
}

/**
 * Additional data each sealed value is bound to (see SecretBox.seal): a secret sealed for tenant A's
 * sandbox opens neither for tenant B nor for A's live environment, even if a row is edited by hand.
 */
export const sealContext = {
  stripe: (tenantId: string, environment: StripeEnvironment) => `stripe-webhook-secret:${tenantId}:${environment}`,
  clerk: (tenantId: string) => `clerk-secret-key:${tenantId}`,
  stripeApi: (tenantId: string, environment: StripeEnvironment) => `stripe-api-key:${tenantId}:${environment}`,
};

export interface TenantStoreOptions {
  /**
   * Seals and opens tenant secrets (HOOKFLOW_MASTER_KEY). Null when no key is configured: listing,
   * counting, reading sealed records and removing still work; anything that seals or opens fails.
   */
  secretBox: SecretBox | null;
  /**
   * Ids `add` refuses: the default tenant while STRIPE_WEBHOOK_SECRET defines it, so a stored
   * tenant can never sit unused behind the environment's one.
   */
  reservedTenantIds?: string[];
}

const MAX_CAS_ATTEMPTS = 5;

/**
 * Tenants, one document each. Looked up by `tenantId`, not `_id`: on FerretDB that is a scan, but of
 * a collection that grows with the tenants operators add, never with events, and the receiver's
 * resolver caches every lookup (tenant-resolver.ts). Secret rotation is a read-compare-write: it runs
 * under the tenant's lock (FerretDB applies updates without isolation) and as a compare-and-set on
 * `revision`, so a concurrent change is never overwritten with older secrets.
 */
export function createTenantStore(connection: Connection, options: TenantStoreOptions): TenantStore {
  const model = bindTenantModel(connection);
  const locks = bindLockModel(connection);
  const box = (): SecretBox => {
    if (!options.secretBox) {
      throw new TenantStoreError('HOOKFLOW_MASTER_KEY is not set: tenant secrets are encrypted with it.');
    }
    return options.secretBox;
  };

  const sealStripeSecret = (tenantId: string, environment: StripeEnvironment, secret: string, addedAt: Date) => ({
    environment,
    sealed: box().seal(checkSigningSecret(secret), sealContext.stripe(tenantId, environment)),
    last4: secret.slice(-4),
    addedAt,
  });

  const sealStripeApiKey = (tenantId: string, apiKey: string, addedAt: Date): StoredStripeSecret => {
    const environment = environmentOfKey(apiKey);
    return {
      environment,
      sealed: box().seal(apiKey, sealContext.stripeApi(tenantId, environment)),
      last4: apiKey.slice(-4),
      addedAt,
    };
  };

  const get = async (tenantId: string) => {
    const doc = await model.findOne({ tenantId }).lean<TenantDoc>();
    return doc ? toView(doc) : null;
  };

  async function rotate(
    tenantId: string,
    environment: StripeEnvironment,
    secret: string,
    rotateOptions: RotateOptions,
  ): Promise<TenantView> {
    checkSigningSecret(secret);
    if (rotateOptions.keep !== undefined && !(Number.isInteger(rotateOptions.keep) && rotateOptions.keep >= 1)) {
      throw new TenantStoreError('keep must be a whole number of at least 1.');
    }
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await model.findOne({ tenantId }).lean<TenantDoc>();
      if (!doc) throw new TenantStoreError(`Tenant '${tenantId}' does not exist.`);
      const context = sealContext.stripe(tenantId, environment);
      // Opening every current secret also proves the master key is the one they were sealed with,
      // so a rotation never mixes secrets under two keys.
      const current = doc.stripeSecrets.filter((entry) => entry.environment === environment);
      const others = doc.stripeSecrets.filter((entry) => entry.environment !== environment);
      let kept: StoredStripeSecret[] = current.filter((entry) => box().open(entry.sealed, context) !== secret);
      const now = new Date();
      kept = [...kept, sealStripeSecret(tenantId, environment, secret, now)];
      if (rotateOptions.keep !== undefined) kept = kept.slice(-rotateOptions.keep);
      const updated = await model.updateOne(
        { tenantId, revision: doc.revision },
        { $set: { stripeSecrets: [...others, ...kept], revision: doc.revision + 1, updatedAt: now } },
      );
      if (updated.matchedCount === 1) {
        const view = await get(tenantId);
        if (view) return view;
      }
    }
    throw new TenantStoreError(`Tenant '${tenantId}' kept changing under concurrent updates; try again.`);
  }

  return {
    async add(input) {
      const tenantId = checkTenantId(input.tenantId);
      if (options.reservedTenantIds?.includes(tenantId)) {
        throw new TenantStoreError(
          `Tenant id '${tenantId}' is the default tenant served from STRIPE_WEBHOOK_SECRET; choose another id, or unset STRIPE_WEBHOOK_SECRET to move the default tenant into the database.`,
        );
      }
      const now = new Date();
      const stripeSecrets = STRIPE_ENVIRONMENTS.flatMap((environment) =>
        unique(input.secrets[environment] ?? []).map((secret) => sealStripeSecret(tenantId, environment, secret, now)),
      );
      if (stripeSecrets.length === 0) {
        throw new TenantStoreError('A tenant needs at least one Stripe signing secret (live or sandbox).');
      }
      const clerkApiUrl = input.clerk?.apiUrl === undefined ? null : checkHttpUrl(input.clerk.apiUrl);
      const stripeApiKeys = unique(input.stripeApiKeys ?? []).map((key) => sealStripeApiKey(tenantId, key, now));
      if (new Set(stripeApiKeys.map((key) => key.environment)).size < stripeApiKeys.length) {
        throw new TenantStoreError('Give at most one Stripe API key per environment (one live, one test key).');
      }
      const clerkSecretKey = input.clerk?.secretKey
        ? box().seal(input.clerk.secretKey, sealContext.clerk(tenantId))
        : null;
      try {
        const created = await model.create({
          tenantId,
          stripeSecrets,
          apiKeyHash: input.apiKey === undefined ? null : hashApiKey(checkApiKey(input.apiKey)),
          clerkSecretKey,
          clerkApiUrl,
          stripeApiKeys,
          revision: 0,
          createdAt: now,
          updatedAt: now,
        });
        return toView(created.toObject<TenantDoc>());
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new TenantStoreError(`Tenant '${tenantId}' already exists.`);
        throw error;
      }
    },

    async list() {
      const docs = await model.find().sort({ tenantId: 1 }).lean<TenantDoc[]>();
      return docs.map(toView);
    },

    get,

    async rotateSecret(tenantId, environment, secret, rotateOptions = {}) {
      return withLock(locks, `tenant:${tenantId}`, () => rotate(tenantId, environment, secret, rotateOptions));
    },

    async remove(tenantId) {
      const removed = await model.deleteOne({ tenantId });
      return removed.deletedCount === 1;
    },

    async count() {
      return model.countDocuments();
    },

    async findRecord(tenantId) {
      const doc = await model
        .findOne({ tenantId })
        .select({ tenantId: 1, stripeSecrets: 1, apiKeyHash: 1 })
        .lean<Pick<TenantDoc, 'tenantId' | 'stripeSecrets' | 'apiKeyHash'>>();
      if (!doc) return null;
      return {
        tenantId: doc.tenantId,
        stripeSecrets: doc.stripeSecrets.map((entry) => ({
          environment: entry.environment,
          sealed: entry.sealed,
        })),
        apiKeyHash: doc.apiKeyHash ?? null,
      };
    },

    async setStripeApiKey(tenantId, apiKey) {
      return withLock(locks, `tenant:${tenantId}`, async () => {
        const doc = await model.findOne({ tenantId }).lean<TenantDoc>();
        if (!doc) throw new TenantStoreError(`Tenant '${tenantId}' does not exist.`);
        const sealed = sealStripeApiKey(tenantId, apiKey, new Date());
        const kept = (doc.stripeApiKeys ?? []).filter((key) => key.environment !== sealed.environment);
        const updated = await model.updateOne(
          { tenantId, revision: doc.revision },
          { $set: { stripeApiKeys: [...kept, sealed], revision: doc.revision + 1, updatedAt: sealed.addedAt } },
        );
        if (updated.matchedCount !== 1) {
          throw new TenantStoreError(`Tenant '${tenantId}' changed while the key was being stored; try again.`);
        }
        return (await get(tenantId))!;
      });
    },

    async stripeApiKey(tenantId, environment) {
      const doc = await model.findOne({ tenantId }).select({ stripeApiKeys: 1 }).lean<TenantDoc>();
      const entry = doc?.stripeApiKeys?.find((key) => key.environment === environment);
      return entry ? box().open(entry.sealed, sealContext.stripeApi(tenantId, environment)) : null;
    },

    async clerkSettings(tenantId) {
      const doc = await model.findOne({ tenantId }).select({ clerkSecretKey: 1, clerkApiUrl: 1 }).lean<TenantDoc>();
      if (!doc) return null;
      return {
        secretKey: doc.clerkSecretKey ? box().open(doc.clerkSecretKey, sealContext.clerk(tenantId)) : null,
        apiUrl: doc.clerkApiUrl ?? null,
      };
    },
  };
}

function toView(doc: TenantDoc): TenantView {
  const secretsOf = (environment: StripeEnvironment) =>
    doc.stripeSecrets
      .filter((entry) => entry.environment === environment)
      .map((entry) => ({ masked: `whsec_…${entry.last4}`, addedAt: entry.addedAt }));
  return {
    tenantId: doc.tenantId,
    secrets: { live: secretsOf('live'), sandbox: secretsOf('sandbox') },
    hasApiKey: Boolean(doc.apiKeyHash),
    clerk: { hasSecretKey: Boolean(doc.clerkSecretKey), apiUrl: doc.clerkApiUrl ?? null },
    stripeApiKeys: {
      live: maskedApiKey(doc.stripeApiKeys, 'live'),
      sandbox: maskedApiKey(doc.stripeApiKeys, 'sandbox'),
    },
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

function maskedApiKey(keys: StoredStripeSecret[] | undefined, environment: StripeEnvironment): string | null {
  const entry = keys?.find((key) => key.environment === environment);
  return entry ? `${environment === 'live' ? 'live' : 'test'} key …${entry.last4}` : null;
}

/** The environment a Stripe key belongs to, from its mode (a test-mode key is a sandbox key). */
function environmentOfKey(apiKey: string): StripeEnvironment {
  try {
    return stripeModeOf(apiKey);
  } catch (error) {
    if (error instanceof StripeApiKeyError) throw new TenantStoreError(error.message);
    throw error;
  }
}

function checkTenantId(tenantId: string): string {
  if (!TENANT_ID_PATTERN.test(tenantId)) {
    throw new TenantStoreError(
      `Tenant id '${tenantId}' must be 1–64 letters, digits, '_' or '-' (an org UUID or a slug).`,
    );
  }
  return tenantId;
}

function checkApiKey(apiKey: string): string {
  // The digest stored is a fast one (see api-key.ts): that is only sound for long random keys.
  if (apiKey.length < API_KEY_MIN_LENGTH) {
    throw new TenantStoreError(`An api key must be at least ${API_KEY_MIN_LENGTH} characters; use --generate-api-key.`);
  }
  return apiKey;
}

function checkSigningSecret(secret: string): string {
  if (!/^whsec_\S{8,}$/.test(secret)) {
    // The secret itself is not echoed: a mistyped one may still be most of a real one.
    const problem = !secret.startsWith('whsec_')
      ? 'it does not start with whsec_'
      : /\s/.test(secret)
        ? 'it contains a space'
        : `it has ${secret.length - 'whsec_'.length} after whsec_`;
    throw new TenantStoreError(
      `A Stripe signing secret is whsec_ followed by at least 8 characters without spaces; ${problem}. Copy it from the webhook endpoint in the Stripe dashboard (or from \`stripe listen\`).`,
    );
  }
  return secret;
}

function checkHttpUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TenantStoreError(`Clerk api url '${value}' is not a URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TenantStoreError(`Clerk api url '${value}' must be http(s).`);
  }
  return value;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
