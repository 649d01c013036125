import { ApplicationFailure, type Duration } from '@temporalio/common';
import type { ClerkResolver } from '../src/clerk/clerk-clients';
import { businessKey, type BusinessModels, type SubscriptionStatus } from '../src/db/business-models';
import type { EventLedger } from '../src/stores/event-store';
import { withLock, type LockModel } from '../src/stores/locks';
import { writeIfNotOlder } from '../src/stores/object-state-store';
import { toApplicationFailure } from '../src/temporal/failure-mapper';
import type { BusinessActivities, BusinessResult } from './business-types';
import { activityLog, idField, loadStoredEvent, metadataValue, stringField, type StoredEvent } from './stored-event';
import type { EventRef } from './types';

export interface ClerkSyncDeps {
  ledger: EventLedger;
  businessModels: BusinessModels;
  clerkFor: ClerkResolver;
  /** `db.models.Lock`: one writer per organization (FerretDB updates are not isolated, see object-lock.ts). */
  locks: LockModel;
  /** Wait before a subscription event whose organization is not linked yet is tried again. */
  organizationLinkRetryDelay?: Duration;
}

/**
 * Where the organization and user ids are read. `client_reference_id` is the documented way to tie
 * a Checkout Session to your own record (https://docs.stripe.com/api/checkout/sessions/object);
 * the metadata keys are what integrations commonly set on the session or subscription.
 */
export const ORGANIZATION_METADATA_KEYS = ['organization_id', 'clerk_org_id', 'clerk_organization_id'] as const;
export const USER_METADATA_KEYS = ['clerk_user_id', 'userId', 'user_id'] as const;

/** Checkout sessions whose payment is settled (`no_payment_required`: trials, 100 % coupons). */
const SETTLED_PAYMENT_STATUSES = new Set(['paid', 'no_payment_required']);
/** Subscription statuses that grant access (https://docs.stripe.com/billing/subscriptions/overview#subscription-statuses). */
const ACTIVE_SUBSCRIPTION_STATUSES = new Set(['active', 'trialing']);

type Outcome = 'clerk_synced' | 'clerk_not_configured' | 'no_organization' | 'not_subscription' | 'stale';

/**
 * Mirrors Stripe subscriptions into Clerk. Under the organization's lock, Mongo is written first
 * (link + status cache, both idempotent), then Clerk is patched with what the cache holds: an
 * activity retry after a Clerk 429 repeats the same PATCH, and because PATCHes of one organization
 * never overlap, Clerk's metadata ends equal to the newest status known, whatever the event order.
 *
 * The keys go to `publicMetadata`: an application gates features on `subscriptionStatus` in the
 * browser and may copy it into session-token claims, and Stripe ids are references, not secrets;
 * Clerk lets only the Backend API write public metadata
 * (https://clerk.com/docs/users/metadata#public-metadata). The PATCH deep-merges, so other keys
 * the application keeps there survive (https://clerk.com/docs/reference/backend-api/tag/organizations/patch/organizations/%7Borganization_id%7D/metadata).
 */
export function createClerkSyncActivities(
  deps: ClerkSyncDeps,
): Pick<BusinessActivities, 'syncClerkCheckout' | 'syncClerkSubscription'> {
  const { CustomerLink, OrganizationSubscription } = deps.businessModels;
  const linkRetryDelay = deps.organizationLinkRetryDelay ?? '1 minute';

  /** One writer per organization: compare-then-write and the Clerk PATCH that mirrors it. */
  function underOrganizationLock<T>(tenantId: string, organizationId: string, work: () => Promise<T>) {
    return withLock(deps.locks, `organization-subscription:${tenantId}:${organizationId}`, work);
  }

  async function writeStatus(
    ref: EventRef,
    event: StoredEvent,
    organizationId: string,
    fields: {
      stripeCustomerId: string | null;
      stripeSubscriptionId: string;
      status: SubscriptionStatus;
      stripeStatus: string | null;
    },
  ) {
    return writeIfNotOlder(
      OrganizationSubscription,
      { _id: businessKey(ref.tenantId, organizationId) },
      { created: event.created, eventId: event.id },
      { tenantId: ref.tenantId, organizationId, ...fields, lastEventType: event.type, updatedAt: new Date() },
    );
  }

  /** Patches the organization (and the user, when known) with the cached row: the mirror step. */
  async function mirrorToClerk(ref: EventRef, organizationId: string, userId: string | null): Promise<Outcome> {
    const clerk = await deps.clerkFor(ref.tenantId);
    if (!clerk) return 'clerk_not_configured';
    const row = await OrganizationSubscription.findOne({ _id: businessKey(ref.tenantId, organizationId) }).lean();
    if (!row) throw new Error(`status cache row of organization ${organizationId} vanished after it was written`);
    const publicMetadata = {
      stripeCustomerId: row.stripeCustomerId,
      stripeSubscriptionId: row.stripeSubscriptionId,
      subscriptionStatus: row.status,
    };
    await callClerk(`updating metadata of organization ${organizationId}`, () =>
      clerk.organizations.updateOrganizationMetadata(organizationId, { publicMetadata }),
    );
    if (userId) {
      await callClerk(`updating metadata of user ${userId}`, () =>
        clerk.users.updateUserMetadata(userId, { publicMetadata }),
      );
    }
    return 'clerk_synced';
  }

  /**
   * The organization of a subscription: explicit metadata on the subscription first, then a cache
   * row already carrying the subscription, then the link a checkout recorded for its customer —
   * only when that checkout bought this very subscription (a customer may buy for several
   * organizations; its latest link must not capture another subscription's events).
   */
  async function resolveOrganization(
    tenantId: string,
    subscription: StoredEvent['object'],
  ): Promise<{ organizationId: string; userId: string | null } | null> {
    const userFromMetadata = clerkUserId(metadataValue(subscription, USER_METADATA_KEYS));
    const fromMetadata = clerkOrganizationId(metadataValue(subscription, ORGANIZATION_METADATA_KEYS));
    const subscriptionId = stringField(subscription, 'id');
    const customerId = idField(subscription, 'customer');
    const found = customerId ? await CustomerLink.findOne({ _id: businessKey(tenantId, customerId) }).lean() : null;
    const link = found && found.stripeSubscriptionId === subscriptionId ? found : null;
    if (fromMetadata) {
      const userId = link?.organizationId === fromMetadata ? (link.userId ?? null) : null;
      return { organizationId: fromMetadata, userId: userFromMetadata ?? userId };
    }
    const cached = subscriptionId
      ? await OrganizationSubscription.findOne({ tenantId, stripeSubscriptionId: subscriptionId }).lean()
      : null;
    if (cached) {
      const userId = link?.organizationId === cached.organizationId ? (link.userId ?? null) : null;
      return { organizationId: cached.organizationId, userId: userFromMetadata ?? userId };
    }
    if (link) return { organizationId: link.organizationId, userId: userFromMetadata ?? link.userId ?? null };
    return null;
  }

  return {
    async syncClerkCheckout(ref: EventRef): Promise<BusinessResult> {
      const event = await loadStoredEvent(deps.ledger, ref);
      const session = event.object;
      const organizationId = clerkOrganizationId(stringField(session, 'client_reference_id'));
      if (!organizationId) return result('no_organization');
      const subscriptionId = idField(session, 'subscription');
      const customerId = idField(session, 'customer');
      // Payment-mode sessions buy no subscription: nothing to mirror.
      if (!subscriptionId || !customerId) return result('not_subscription');
      const userId = clerkUserId(metadataValue(session, USER_METADATA_KEYS));

      const paymentStatus = stringField(session, 'payment_status');
      const { outcome, write } = await underOrganizationLock(ref.tenantId, organizationId, async () => {
        // Keyed by customer, and a customer may check out for several organizations at once: the
        // link has its own lock beside the organization's.
        await withLock(deps.locks, `customer-link:${ref.tenantId}:${customerId}`, () =>
          CustomerLink.updateOne(
            { _id: businessKey(ref.tenantId, customerId) },
            {
              $set: {
                tenantId: ref.tenantId,
                stripeCustomerId: customerId,
                organizationId,
                userId,
                stripeSubscriptionId: subscriptionId,
                checkoutSessionId: stringField(session, 'id'),
                eventId: event.id,
                updatedAt: new Date(),
              },
            },
            { upsert: true },
          ),
        );
        const write = await writeStatus(ref, event, organizationId, {
          stripeCustomerId: customerId,
          stripeSubscriptionId: subscriptionId,
          status: paymentStatus && SETTLED_PAYMENT_STATUSES.has(paymentStatus) ? 'active' : 'inactive',
          stripeStatus: null,
        });
        // Even when a newer subscription event already set the status, the checkout is what makes
        // the organization known: mirror the cache (which holds the newer status) to Clerk.
        return { outcome: await mirrorToClerk(ref, organizationId, userId), write };
      });
      activityLog('checkout mirrored to Clerk', { eventId: event.id, organizationId, outcome, write });
      return result(outcome);
    },

    async syncClerkSubscription(ref: EventRef): Promise<BusinessResult> {
      const event = await loadStoredEvent(deps.ledger, ref);
      const subscription = event.object;
      const subscriptionId = stringField(subscription, 'id');
      if (!subscriptionId) return result('not_subscription');
      const stripeStatus = stringField(subscription, 'status');
      const status: SubscriptionStatus = event.type.endsWith('.deleted')
        ? 'cancelled'
        : stripeStatus && ACTIVE_SUBSCRIPTION_STATUSES.has(stripeStatus)
          ? 'active'
          : 'inactive';

      const owner = await resolveOrganization(ref.tenantId, subscription);
      if (!owner) {
        // Without Clerk there is nothing to wait for; with Clerk, dropping the update would leave
        // the organization's status wrong forever. Stripe does not order events, so the checkout
        // that links this customer may simply not have run yet: retry visibly until it has.
        if (!(await deps.clerkFor(ref.tenantId))) return result('clerk_not_configured');
        throw ApplicationFailure.create({
          type: 'OrganizationLinkPending',
          message: `no Clerk organization known yet for subscription ${subscriptionId} (customer ${idField(subscription, 'customer')}): waiting for its checkout.session.completed or an organization_id in the subscription metadata`,
          nextRetryDelay: linkRetryDelay,
        });
      }
      const outcome = await underOrganizationLock(ref.tenantId, owner.organizationId, async () => {
        const write = await writeStatus(ref, event, owner.organizationId, {
          stripeCustomerId: idField(subscription, 'customer'),
          stripeSubscriptionId: subscriptionId,
          status,
          stripeStatus,
        });
        // A newer event already wrote (and mirrored) a later status: patching now would go backwards.
        if (write === 'stale') return 'stale';
        return mirrorToClerk(ref, owner.organizationId, owner.userId);
      });
      activityLog('subscription mirrored to Clerk', {
        eventId: event.id,
        organizationId: owner.organizationId,
        status,
      });
      return result(outcome);
    },
  };
}

function result(outcome: Outcome): BusinessResult {
  return { outcome, outbound: [] };
}

async function callClerk<T>(action: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw toApplicationFailure(error, { service: 'Clerk', action });
  }
}

/**
 * Clerk ids carry their kind as a prefix (`org_…`, `user_…`). Anything else in these fields is some
 * other system's reference; sending it to Clerk would only fail with a 404.
 */
function clerkOrganizationId(value: string | null): string | null {
  return value && /^org_[A-Za-z0-9]+$/.test(value) ? value : null;
}

function clerkUserId(value: string | null): string | null {
  return value && /^user_[A-Za-z0-9]+$/.test(value) ? value : null;
}
