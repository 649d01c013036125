import type { Connection, Model } from 'mongoose';
import { bindBusinessModels, businessKey, type SubscriptionStatus } from './business-schemas';
import { isDuplicateKeyError } from './duplicate-key';
import { bindLockModel, withLock } from './locks';
import type { RecordEvent } from './tracked-record';
import { readWatermark, writeOver, type WriteOutcome } from './watermark';

export { SUBSCRIPTION_STATUSES, type SubscriptionStatus } from './business-schemas';
export type { RecordEvent, WriteOutcome };

/** What the status cache holds for an organization: exactly what is mirrored into its Clerk metadata. */
export interface OrganizationStatus {
  organizationId: string;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
  status: SubscriptionStatus;
}

/** A completed subscription checkout for a Clerk organization. */
export interface CheckoutRecord {
  tenantId: string;
  event: RecordEvent;
  organizationId: string;
  /** The purchasing Clerk user, when the session names one. */
  userId: string | null;
  customerId: string;
  subscriptionId: string;
  checkoutSessionId: string | null;
  /** `active` once the payment is settled. */
  status: SubscriptionStatus;
}

/** A subscription event's change of status. */
export interface SubscriptionChange {
  tenantId: string;
  event: RecordEvent;
  subscriptionId: string;
  customerId: string | null;
  status: SubscriptionStatus;
  /** Stripe's own subscription status (`past_due`, …). */
  stripeStatus: string | null;
}

/** The organization a subscription belongs to, as `resolveSubscriptionOwner` found it. */
export interface SubscriptionOwner {
  organizationId: string;
  /** The purchasing user, when the customer's checkout for this subscription named one. */
  userId: string | null;
  /** Found through the subscription's own link: the store need not write it again. */
  readonly linked: boolean;
}

/** Mirrors the organization's cached status elsewhere (Clerk); runs under the organization's lock. */
export type MirrorStatus<T> = (status: OrganizationStatus) => Promise<T>;

/**
 * Clerk links (Stripe customer → organization and user, Stripe subscription → organization) and the
 * organizations' subscription-status cache. The store owns their `_id`s (`businessKey(tenant, …)`),
 * the one-writer-per-organization lock and the "never older" watermark on the status: the mirror
 * step a caller hands in runs under that lock, so mirrors of one organization never overlap and the
 * mirrored copy ends equal to the newest status known, whatever the event order.
 */
export interface ClerkStore {
  /**
   * `checkout.session.completed`: links the customer and the subscription to the organization,
   * writes its status (unless a newer event already did), then mirrors what the cache holds — even
   * when that is a newer status: the checkout is what makes the organization known.
   */
  recordCheckout<T>(checkout: CheckoutRecord, mirror: MirrorStatus<T>): Promise<{ write: WriteOutcome; mirrored: T }>;
  /**
   * The organization of a subscription, every lookup by `_id`: the one named by the subscription's
   * metadata (`organizationId`), else the organization the subscription was last learnt for while its
   * cache row still carries this subscription, else the organization whose checkout bought this very
   * subscription for the customer (a customer may buy for several organizations; its latest link
   * must not capture another subscription's events). Null when none is known yet.
   */
  resolveSubscriptionOwner(query: {
    tenantId: string;
    subscriptionId: string;
    customerId: string | null;
    organizationId: string | null;
  }): Promise<SubscriptionOwner | null>;
  /**
   * `customer.subscription.*`: writes the owner's status unless a newer event already did (`stale`:
   * nothing is mirrored, that would go backwards), remembers the subscription → organization link,
   * and mirrors the new status.
   */
  recordSubscriptionStatus<T>(
    change: SubscriptionChange,
    owner: SubscriptionOwner,
    mirror: MirrorStatus<T>,
  ): Promise<{ write: WriteOutcome; mirrored: T | null }>;
  /** The cached status of an organization (an `_id` lookup). */
  organizationStatus(tenantId: string, organizationId: string): Promise<OrganizationStatus | null>;
}

export function createClerkStore(connection: Connection): ClerkStore {
  const { CustomerLink, SubscriptionLink, OrganizationSubscription } = bindBusinessModels(connection);
  const locks = bindLockModel(connection);

  /** One writer per organization: compare-then-write and the mirror of the result. */
  function underOrganizationLock<T>(tenantId: string, organizationId: string, work: () => Promise<T>) {
    return withLock(locks, `organization-subscription:${tenantId}:${organizationId}`, work);
  }

  async function organizationStatus(tenantId: string, organizationId: string): Promise<OrganizationStatus | null> {
    const row = await OrganizationSubscription.findOne({ _id: businessKey(tenantId, organizationId) }).lean();
    if (!row) return null;
    return {
      organizationId: row.organizationId,
      stripeCustomerId: row.stripeCustomerId ?? null,
      stripeSubscriptionId: row.stripeSubscriptionId ?? null,
      status: row.status,
    };
  }

  /**
   * The watermark-guarded status write (caller holds the organization's lock). Returns what the
   * cache holds afterwards without reading it back when the write applied.
   */
  async function writeStatus(
    tenantId: string,
    event: RecordEvent,
    status: OrganizationStatus & { stripeStatus: string | null },
  ): Promise<{ write: WriteOutcome; current: OrganizationStatus | null }> {
    const key = { _id: businessKey(tenantId, status.organizationId) };
    const write = await writeOver(
      OrganizationSubscription,
      key,
      { created: event.created, eventId: event.id },
      { tenantId, ...status, lastEventType: event.type, updatedAt: new Date() },
      await readWatermark(OrganizationSubscription, key),
    );
    if (write === 'stale') return { write, current: null };
    const { organizationId, stripeCustomerId, stripeSubscriptionId } = status;
    return { write, current: { organizationId, stripeCustomerId, stripeSubscriptionId, status: status.status } };
  }

  /** The link rows are whole-row `$set`s keyed by `_id`: concurrent writers cannot mix, the last one wins. */
  async function linkSubscription(tenantId: string, subscriptionId: string, organizationId: string, eventId: string) {
    await upsertById(SubscriptionLink, businessKey(tenantId, subscriptionId), {
      tenantId,
      stripeSubscriptionId: subscriptionId,
      organizationId,
      eventId,
      updatedAt: new Date(),
    });
  }

  return {
    organizationStatus,

    async recordCheckout(checkout, mirror) {
      const { tenantId, event, organizationId } = checkout;
      return underOrganizationLock(tenantId, organizationId, async () => {
        await Promise.all([
          // Keyed by customer, and a customer may check out for several organizations at once: the
          // latest checkout's link wins (a subscription event only follows it for its own subscription).
          upsertById(CustomerLink, businessKey(tenantId, checkout.customerId), {
            tenantId,
            stripeCustomerId: checkout.customerId,
            organizationId,
            userId: checkout.userId,
            stripeSubscriptionId: checkout.subscriptionId,
            checkoutSessionId: checkout.checkoutSessionId,
            eventId: event.id,
            updatedAt: new Date(),
          }),
          linkSubscription(tenantId, checkout.subscriptionId, organizationId, event.id),
        ]);
        const { write, current } = await writeStatus(tenantId, event, {
          organizationId,
          stripeCustomerId: checkout.customerId,
          stripeSubscriptionId: checkout.subscriptionId,
          status: checkout.status,
          stripeStatus: null,
        });
        const cached = current ?? (await organizationStatus(tenantId, organizationId));
        if (!cached)
          throw new Error(`status cache row of organization ${organizationId} vanished after it was written`);
        return { write, mirrored: await mirror(cached) };
      });
    },

    async resolveSubscriptionOwner({ tenantId, subscriptionId, customerId, organizationId }) {
      const [customerLink, subscriptionLink] = await Promise.all([
        customerId ? CustomerLink.findOne({ _id: businessKey(tenantId, customerId) }).lean() : null,
        organizationId ? null : SubscriptionLink.findOne({ _id: businessKey(tenantId, subscriptionId) }).lean(),
      ]);
      const link = customerLink && customerLink.stripeSubscriptionId === subscriptionId ? customerLink : null;
      const userOf = (owner: string) => (link?.organizationId === owner ? (link.userId ?? null) : null);
      if (organizationId) return { organizationId, userId: userOf(organizationId), linked: false };
      if (subscriptionLink) {
        // The link says which organization the subscription was learnt for; the cache row says
        // whether that organization still follows it (it may have moved on to another subscription).
        const cached = await organizationStatus(tenantId, subscriptionLink.organizationId);
        if (cached?.stripeSubscriptionId === subscriptionId) {
          return { organizationId: cached.organizationId, userId: userOf(cached.organizationId), linked: true };
        }
      }
      if (link) return { organizationId: link.organizationId, userId: link.userId ?? null, linked: false };
      return null;
    },

    async recordSubscriptionStatus(change, owner, mirror) {
      const { tenantId, event } = change;
      return underOrganizationLock(tenantId, owner.organizationId, async () => {
        const { write, current } = await writeStatus(tenantId, event, {
          organizationId: owner.organizationId,
          stripeCustomerId: change.customerId,
          stripeSubscriptionId: change.subscriptionId,
          status: change.status,
          stripeStatus: change.stripeStatus,
        });
        if (!owner.linked) await linkSubscription(tenantId, change.subscriptionId, owner.organizationId, event.id);
        // A newer event already wrote (and mirrored) a later status: mirroring now would go backwards.
        if (!current) return { write, mirrored: null };
        return { write, mirrored: await mirror(current) };
      });
    },
  };
}

/**
 * Idempotent upsert of a whole row by `_id`, without a lock: two first writers racing on one `_id`
 * both try the insert (MongoDB and FerretDB alike) and one gets E11000; it then updates the row the
 * other inserted.
 */
async function upsertById(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- link rows of both kinds
  _id: string,
  fields: Record<string, unknown>,
): Promise<void> {
  try {
    await model.updateOne({ _id }, { $set: fields }, { upsert: true });
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    await model.updateOne({ _id }, { $set: fields });
  }
}
