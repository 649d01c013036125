import type { BusinessHandlerName, EventRef } from '../src/contracts';
import type { EventStore } from '../src/stores/event-store';
import type { BusinessHandlers } from './business-handlers';
import type { BusinessActivities } from './business-types';
import { createCaseHandlers, type CaseDeps } from './cases';
import { createClerkSyncHandlers, type ClerkSyncDeps } from './clerk-sync';
import { createPaymentSessionHandlers, type PaymentSessionDeps } from './payment-sessions';
import { loadStoredEvent } from './stored-event';

/** The event ledger, the business stores (cases, payment sessions, Clerk links) and Clerk's clients. */
export type BusinessActivityDeps = ClerkSyncDeps &
  CaseDeps &
  PaymentSessionDeps & {
    /** Where the event's verified payload is read. */
    events: EventStore;
  };

/** The business handlers of the design table, over an event already read. */
export function createBusinessHandlers(deps: BusinessActivityDeps): BusinessHandlers {
  return {
    ...createClerkSyncHandlers(deps),
    ...createCaseHandlers(deps),
    ...createPaymentSessionHandlers(deps),
  };
}

/** The same handlers as activities: each reads the stored event by reference first. */
export function createBusinessActivities(
  deps: BusinessActivityDeps,
  handlers: BusinessHandlers = createBusinessHandlers(deps),
): BusinessActivities {
  const activity = (name: BusinessHandlerName) => async (ref: EventRef) =>
    handlers[name](ref, await loadStoredEvent(deps.events, ref));
  return {
    syncClerkCheckout: activity('syncClerkCheckout'),
    syncClerkSubscription: activity('syncClerkSubscription'),
    applyDisputeCase: activity('applyDisputeCase'),
    openFraudCase: activity('openFraudCase'),
    linkPaymentSession: activity('linkPaymentSession'),
    failPaymentSession: activity('failPaymentSession'),
  };
}
