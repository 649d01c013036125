import { ApplicationFailure, type Duration } from '@temporalio/common';
import type { ClerkResolver } from '../src/clerk/clerk-clients';
import type { ClerkStore, OrganizationStatus, SubscriptionStatus } from '../src/stores/clerk-store';
import { toApplicationFailure } from '../src/temporal/failure-mapper';
import type { BusinessHandlers } from './business-handlers';
import type { BusinessResult } from './business-types';
import { activityLog, idField, metadataValue, stringField, type StoredEvent } from './stored-event';
import type { EventRef } from './types';

export interface ClerkSyncDeps {
  /** Customer and subscription links, the status cache and its per-organization lock. */
  clerkLinks: ClerkStore;
  clerkFor: ClerkResolver;
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
 * Mirrors Stripe subscriptions into Clerk. The Clerk store writes first (links + status cache, both
 * idempotent), then, under the organization's lock it owns, Clerk is patched with what the cache
 * holds: an activity retry after a Clerk 429 repeats the same PATCH, and because PATCHes of one
 * organization never overlap, Clerk's metadata ends equal to the newest status known, whatever the
 * event order.
 *
 * The keys go to `publicMetadata`: an application gates features on `subscriptionStatus` in the
 * browser and may copy it into session-token claims, and Stripe ids are references, not secrets;
 * Clerk lets only the Backend API write public metadata
 * (https://clerk.com/docs/users/metadata#public-metadata). The PATCH deep-merges, so other keys
 * the application keeps there survive (https://clerk.com/docs/reference/backend-api/tag/organizations/patch/organizations/%7Borganization_id%7D/metadata).
 */
export function createClerkSyncHandlers(
  deps: ClerkSyncDeps,
): Pick<BusinessHandlers, 'syncClerkCheckout' | 'syncClerkSubscription'> {
  const linkRetryDelay = deps.organizationLinkRetryDelay ?? '1 minute';

  /** Patches the organization (and the user, when known) with the cached status: the mirror step. */
  async function mirrorToClerk(tenantId: string, cached: OrganizationStatus, userId: string | null): Promise<Outcome> {
    const clerk = await deps.clerkFor(tenantId);
    if (!clerk) return 'clerk_not_configured';
    const { organizationId } = cached;
    const publicMetadata = {
      stripeCustomerId: cached.stripeCustomerId,
      stripeSubscriptionId: cached.stripeSubscriptionId,
      subscriptionStatus: cached.status,
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

  return {
    async syncClerkCheckout(ref: EventRef, event: StoredEvent): Promise<BusinessResult> {
      const session = event.object;
      const reference = stringField(session, 'client_reference_id');
      const organizationId = clerkOrganizationId(reference);
      const userId = clerkUserId(metadataValue(session, USER_METADATA_KEYS));
      // Subscriptions are mirrored per organization: without one, not even the user is patched.
      if (!organizationId) return result('no_organization', noOrganizationReason(reference, userId));
      const subscriptionId = idField(session, 'subscription');
      const customerId = idField(session, 'customer');
      // Payment-mode sessions buy no subscription: nothing to mirror.
      if (!subscriptionId || !customerId) return result('not_subscription');

      const paymentStatus = stringField(session, 'payment_status');
      const { mirrored: outcome, write } = await deps.clerkLinks.recordCheckout(
        {
          tenantId: ref.tenantId,
          event,
          organizationId,
          userId,
          customerId,
          subscriptionId,
          checkoutSessionId: stringField(session, 'id'),
          status: paymentStatus && SETTLED_PAYMENT_STATUSES.has(paymentStatus) ? 'active' : 'inactive',
        },
        // Even when a newer subscription event already set the status, the checkout is what makes
        // the organization known: the store hands over the cache (which holds the newer status).
        (cached) => mirrorToClerk(ref.tenantId, cached, userId),
      );
      activityLog('checkout mirrored to Clerk', { eventId: event.id, organizationId, outcome, write });
      return result(outcome);
    },

    async syncClerkSubscription(ref: EventRef, event: StoredEvent): Promise<BusinessResult> {
      const subscription = event.object;
      const subscriptionId = stringField(subscription, 'id');
      if (!subscriptionId) return result('not_subscription');
      const stripeStatus = stringField(subscription, 'status');
      const status: SubscriptionStatus = event.type.endsWith('.deleted')
        ? 'cancelled'
        : stripeStatus && ACTIVE_SUBSCRIPTION_STATUSES.has(stripeStatus)
          ? 'active'
          : 'inactive';

      const customerId = idField(subscription, 'customer');
      const known = await deps.clerkLinks.resolveSubscriptionOwner({
        tenantId: ref.tenantId,
        subscriptionId,
        customerId,
        organizationId: clerkOrganizationId(metadataValue(subscription, ORGANIZATION_METADATA_KEYS)),
      });
      const userFromMetadata = clerkUserId(metadataValue(subscription, USER_METADATA_KEYS));
      const owner = known && { ...known, userId: userFromMetadata ?? known.userId };
      if (!owner) {
        // Without Clerk there is nothing to wait for; with Clerk, dropping the update would leave
        // the organization's status wrong forever. Stripe does not order events, so the checkout
        // that links this customer may simply not have run yet: retry visibly until it has.
        if (!(await deps.clerkFor(ref.tenantId))) return result('clerk_not_configured');
        throw ApplicationFailure.create({
          type: 'OrganizationLinkPending',
          message: `no Clerk organization known yet for subscription ${subscriptionId} (customer ${customerId}): waiting for its checkout.session.completed or an organization_id in the subscription metadata`,
          nextRetryDelay: linkRetryDelay,
        });
      }
      const { mirrored, write } = await deps.clerkLinks.recordSubscriptionStatus(
        { tenantId: ref.tenantId, event, subscriptionId, customerId, status, stripeStatus },
        owner,
        (cached) => mirrorToClerk(ref.tenantId, cached, owner.userId),
      );
      // `stale`: a newer event already wrote (and mirrored) a later status, nothing was patched.
      const outcome: Outcome = mirrored ?? 'stale';
      activityLog('subscription mirrored to Clerk', {
        eventId: event.id,
        organizationId: owner.organizationId,
        status,
        write,
      });
      return result(outcome);
    },
  };
}

function result(outcome: Outcome, reason?: string): BusinessResult {
  return { outcome, outbound: [], ...(reason ? { reason } : {}) };
}

/**
 * What support needs to fix the checkout: which field was missing or not a Clerk id. The value is
 * repeated only when it is id-shaped, so an email or free text put there never reaches the record
 * or workflow history.
 */
function noOrganizationReason(reference: string | null, userId: string | null): string {
  const why =
    reference === null
      ? 'the checkout session has no client_reference_id (the Clerk organization id, org_…)'
      : /^[\w.:-]{1,64}$/.test(reference)
        ? `client_reference_id '${reference}' is not a Clerk organization id (org_…)`
        : 'client_reference_id is not a Clerk organization id (org_…)';
  return userId ? `${why}; user ${userId} is not updated without an organization` : why;
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
