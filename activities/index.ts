import { createBusinessActivities, type BusinessActivityDeps } from './business-activities';
import { createEventActivities, type EventActivityDeps } from './event-activities';
import { createOutboundActivities, type OutboundActivityDeps } from './outbound';

export type ActivityDeps = EventActivityDeps & { outbound?: OutboundActivityDeps; business?: BusinessActivityDeps };

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createEventActivities(deps),
    ...(deps.outbound ? createOutboundActivities(deps.outbound) : {}),
    ...(deps.business ? createBusinessActivities(deps.business) : {}),
  };
}
