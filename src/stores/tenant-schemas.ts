import { Schema, type Connection } from 'mongoose';

export const STRIPE_ENVIRONMENTS = ['live', 'sandbox'] as const;

/** Tenant ids appear in URLs, workflow ids and search attributes: an org/profile UUID or a slug. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * One Stripe signing secret. `sealed` is the SecretBox ciphertext (bound to tenant and environment);
 * `last4` only lets `tenants list` tell secrets apart without the master key.
 */
const stripeSecretSchema = new Schema(
  {
    environment: { type: String, enum: STRIPE_ENVIRONMENTS, required: true },
    sealed: { type: String, required: true },
    last4: { type: String, required: true },
    addedAt: { type: Date, required: true },
  },
  { _id: false },
);

export const tenantSchema = new Schema(
  {
    tenantId: { type: String, required: true, match: TENANT_ID_PATTERN },
    /** Every active secret, oldest first; more than one per environment while a rotation is under way. */
    stripeSecrets: { type: [stripeSecretSchema], default: [] },
    /** `sha256:<hex>` of the api key deliveries must carry, or null when the tenant has none. */
    apiKeyHash: { type: String, default: null },
    /** Sealed Clerk secret key, or null (the worker then uses CLERK_SECRET_KEY). */
    clerkSecretKey: { type: String, default: null },
    clerkApiUrl: { type: String, default: null },
    /** Sealed Stripe API keys (backfill, catch-up, thin events), at most one per environment. */
    stripeApiKeys: { type: [stripeSecretSchema], default: [] },
    /**
     * Bumped by every change. FerretDB has no transactions, so read-modify-write updates (rotation)
     * are compare-and-set on this number instead.
     */
    revision: { type: Number, required: true, default: 0 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'tenants', versionKey: false },
);
tenantSchema.index({ tenantId: 1 }, { unique: true });

/** Plain (lean) shapes; spelled out because inferred array types are mongoose subdocuments. */
export interface StoredStripeSecret {
  environment: (typeof STRIPE_ENVIRONMENTS)[number];
  sealed: string;
  last4: string;
  addedAt: Date;
}

export interface TenantDoc {
  tenantId: string;
  stripeSecrets: StoredStripeSecret[];
  apiKeyHash: string | null;
  clerkSecretKey: string | null;
  clerkApiUrl: string | null;
  stripeApiKeys?: StoredStripeSecret[];
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Bound per connection like the other models; idempotent on the same connection. Only the tenant
 * store writes through it; connectDatabase builds the unique index declared above.
 */
export function bindTenantModel(connection: Connection) {
  return connection.model<TenantDoc>('Tenant', tenantSchema);
}
