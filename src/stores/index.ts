import type { Connection } from 'mongoose';
import type { Config } from '../config';
import { parseAllowList, type AllowList } from '../outbound/ssrf-guard';
import { createSecretBox, type SecretBox } from '../tenants/secret-box';
import { createEndpointStore, type EndpointStore } from './endpoint-store';
import { createMessageStore, type MessageStore } from './message-store';
import { createTenantStore, type TenantStore } from './tenant-store';
import { createCaseStore, type CaseStore } from './case-store';
import { createClerkStore, type ClerkStore } from './clerk-store';
import { createPaymentSessionStore, type PaymentSessionStore } from './payment-session-store';
import { createRateSlotStore, type RateSlotStore } from './rate-slot-store';
import { bindModels, type Models } from './event-models';
import { EventStore } from './event-store';
import { ObjectStateStore } from './object-state-store';
import { RerunStore } from './rerun-store';
import { replaceRenamedIndexes } from './index-migrations';

/**
 * The one storage layer (design: "One storage layer owns the database"): a store per record type
 * owns its ids, indexes, locking and "never older" checks. Activities, routes and CLIs receive
 * stores, never models or locks.
 */
export interface Stores {
  events: EventStore;
  objectState: ObjectStateStore;
  /** Outbound webhook endpoints (secrets sealed with the master key). */
  endpoints: EndpointStore;
  /** Outbound messages and their delivery attempts. */
  messages: MessageStore;
  tenants: TenantStore;
  /** Dispute and fraud cases. */
  cases: CaseStore;
  /** Merchants' payment sessions. */
  paymentSessions: PaymentSessionStore;
  /** Clerk customer/subscription links and the organizations' subscription-status cache. */
  clerkLinks: ClerkStore;
  /** The re-run audit trail (written through EventStore.claimRerun). */
  reruns: RerunStore;
  /** Fleet-wide pacing of Stripe API requests (backfill and catch-up pages). */
  rateSlots: RateSlotStore;
}

/**
 * What some stores take from config. Without it (tests, connectDatabase's default) there is no
 * master key — endpoint and tenant secrets can then be neither sealed nor opened — no outbound
 * allow list and no reserved tenant id.
 */
export interface StoreOptions {
  /** HOOKFLOW_MASTER_KEY's box: seals endpoint and tenant secrets. */
  secretBox?: SecretBox | null;
  /** HOOKFLOW_OUTBOUND_ALLOW: private destinations an endpoint may still be registered for. */
  outboundAllow?: AllowList;
  /** Tenant ids `tenants add` refuses: the default tenant while STRIPE_WEBHOOK_SECRET defines it. */
  reservedTenantIds?: string[];
}

export function storeOptionsFromConfig(config: Config): StoreOptions {
  return {
    secretBox: config.tenants.masterKey ? createSecretBox(config.tenants.masterKey) : null,
    outboundAllow: parseAllowList(config.outbound.allow.join(',')),
    reservedTenantIds: config.stripe.webhookSecrets.length > 0 ? [config.defaultTenant] : [],
  };
}

/** Binds every store to an open connection (models are bound per connection, never globally). */
export function openStores(connection: Connection, options: StoreOptions = {}): { stores: Stores; models: Models } {
  const models = bindModels(connection);
  return {
    models,
    stores: {
      events: new EventStore(models),
      objectState: new ObjectStateStore(models),
      endpoints: createEndpointStore(connection, {
        allow: options.outboundAllow ?? parseAllowList(''),
        secrets: options.secretBox ?? null,
      }),
      messages: createMessageStore(connection),
      tenants: createTenantStore(connection, {
        secretBox: options.secretBox ?? null,
        reservedTenantIds: options.reservedTenantIds ?? [],
      }),
      cases: createCaseStore(connection),
      paymentSessions: createPaymentSessionStore(connection),
      clerkLinks: createClerkStore(connection),
      reruns: new RerunStore(models),
      rateSlots: createRateSlotStore(connection),
    },
  };
}

/**
 * Builds the indexes of every model bound on the connection, once, awaited (autoIndex is off so
 * index creation never races the first write). Declared on the schemas: MongoDB uses them; on
 * FerretDB only the `_id` index and, for `find`, the `…__pushdown` support-list indexes serve
 * queries (see event-models.ts). Indexes renamed since a database was built are replaced first.
 */
export async function ensureStoreIndexes(connection: Connection): Promise<void> {
  await Promise.all(
    Object.values(connection.models).map(async (model) => {
      await replaceRenamedIndexes(model);
      await model.createIndexes();
    }),
  );
}
