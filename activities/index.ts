import { createEventActivities, type EventActivityDeps } from './event-activities';

export type ActivityDeps = EventActivityDeps;

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return { ...createEventActivities(deps) };
}
