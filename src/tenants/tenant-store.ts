import { withLock, type LockModel } from '../stores/locks';
import type { StripeEnvironment } from '../receiver/tenants';
import { isDuplicateKeyError } from '../stores/duplicate-key';
import { API_KEY_MIN_LENGTH, hashApiKey } from './api-key';
import type { SecretBox } from './secret-box';
import {
  STRIPE_ENVIRONMENTS,
  TENANT_ID_PATTERN,
  type StoredStripeSecret,
  type TenantDoc,
  type TenantModel,
} from './tenant-model';

export interface NewTenant {
  tenantId: string;
  /** Stripe signing secrets (`whsec_…`) per environment; at least one in all. */
  secrets: Partial<Record<StripeEnvironment, string[]>>;
  apiKey?: string;
  clerk?: { secretKey?: string; apiUrl?: string };
}

/** What `tenants list` shows: never a secret, only enough to tell secrets apart. */
export interface TenantView {
  tenantId: string;
  secrets: Record<StripeEnvironment, Array<{ masked: string; addedAt: Date }>>;
  hasApiKey: boolean;
  clerk: { hasSecretKey: boolean; apiUrl: string | null };
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
  findRecord(tenantId: string): Promise<TenantRecord | null>;
  /** The tenant's Clerk settings, decrypted, for the worker; null fields fall back to the process config. */
  clerkSettings(tenantId: string): Promise<{ secretKey: string | null; apiUrl: string | null } | null>;
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
};

export interface TenantStoreDeps {
  model: TenantModel;
  secretBox: SecretBox;
  /**
   * Ids `add` refuses: the default tenant while STRIPE_WEBHOOK_SECRET defines it, so a stored
   * tenant can never sit unused behind the environment's one.
   */
  reservedTenantIds?: string[];
  /** Serialises writes of one tenant document (FerretDB applies updates without isolation). */
  locks?: LockModel;
}

const MAX_CAS_ATTEMPTS = 5;

export function createTenantStore(deps: TenantStoreDeps): TenantStore {
  const { model, secretBox } = deps;

  const sealStripeSecret = (tenantId: string, environment: StripeEnvironment, secret: string, addedAt: Date) => ({
    environment,
    sealed: secretBox.seal(checkSigningSecret(secret), sealContext.stripe(tenantId, environment)),
    last4: secret.slice(-4),
    addedAt,
  });

  const get = async (tenantId: string) => {
    const doc = await model.findOne({ tenantId }).lean<TenantDoc>();
    return doc ? toView(doc) : null;
  };

  async function rotate(
    tenantId: string,
    environment: StripeEnvironment,
    secret: string,
    options: { keep?: number },
  ): Promise<TenantView> {
    checkSigningSecret(secret);
    if (options.keep !== undefined && !(Number.isInteger(options.keep) && options.keep >= 1)) {
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
      let kept: StoredStripeSecret[] = current.filter((entry) => secretBox.open(entry.sealed, context) !== secret);
      const now = new Date();
      kept = [...kept, sealStripeSecret(tenantId, environment, secret, now)];
      if (options.keep !== undefined) kept = kept.slice(-options.keep);
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
      if (deps.reservedTenantIds?.includes(tenantId)) {
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
      const clerkSecretKey = input.clerk?.secretKey
        ? secretBox.seal(input.clerk.secretKey, sealContext.clerk(tenantId))
        : null;
      try {
        const created = await model.create({
          tenantId,
          stripeSecrets,
          apiKeyHash: input.apiKey === undefined ? null : hashApiKey(checkApiKey(input.apiKey)),
          clerkSecretKey,
          clerkApiUrl,
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

    async rotateSecret(tenantId, environment, secret, options = {}) {
      const run = () => rotate(tenantId, environment, secret, options);
      return deps.locks ? withLock(deps.locks, `tenant:${tenantId}`, run) : run();
    },

    async remove(tenantId) {
      const removed = await model.deleteOne({ tenantId });
      return removed.deletedCount === 1;
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

    async clerkSettings(tenantId) {
      const doc = await model.findOne({ tenantId }).select({ clerkSecretKey: 1, clerkApiUrl: 1 }).lean<TenantDoc>();
      if (!doc) return null;
      return {
        secretKey: doc.clerkSecretKey ? secretBox.open(doc.clerkSecretKey, sealContext.clerk(tenantId)) : null,
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
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
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
    throw new TenantStoreError(
      'A Stripe signing secret starts with whsec_ (copy it from the webhook endpoint in the Stripe dashboard).',
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
