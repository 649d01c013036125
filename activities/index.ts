import { createBulkRerunActivities, type BulkRerunActivityDeps } from './bulk-reruns';
import { createBusinessActivities, createBusinessHandlers, type BusinessActivityDeps } from './business-activities';
import { createEventActivities, type EventActivityDeps } from './event-activities';
import { createOutboundActivities, type OutboundActivityDeps } from './outbound';
import { createStripeActivities, type StripeActivityDeps } from './stripe-activities';
import { createThinEventActivities } from './thin-events';

export type ActivityDeps = EventActivityDeps & {
  outbound?: OutboundActivityDeps;
  business?: BusinessActivityDeps;
  bulkReruns?: BulkRerunActivityDeps;
  /** Stripe API access (backfill, catch-up); absent in tests and tools that do not call Stripe. */
  stripe?: StripeActivityDeps;
};

function clerkConfiguredBy(clerkFor: BusinessActivityDeps['clerkFor']) {
  return async (tenantId: string) => (await clerkFor(tenantId)) !== null;
}

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const outbound = deps.outbound && createOutboundActivities(deps.outbound);
  // One set of handlers: inside the object state's activity, and as activities of their own.
  const handlers = deps.business && createBusinessHandlers(deps.business);
  return {
    ...createEventActivities({
      ...deps,
      ...(deps.business && { clerkConfigured: clerkConfiguredBy(deps.business.clerkFor) }),
      ...(handlers && outbound && { inlineBusiness: { handlers, prepareOutbound: outbound.prepareOutboundMessages } }),
    }),
    ...outbound,
    ...(deps.business ? createBusinessActivities(deps.business, handlers) : {}),
    ...(deps.stripe ? createStripeActivities(deps.stripe) : {}),
    ...(deps.stripe
      ? createThinEventActivities({ clients: deps.stripe.clients, events: deps.stripe.stores.events })
      : {}),
    ...(deps.bulkReruns ? createBulkRerunActivities(deps.bulkReruns) : {}),
  };
}
