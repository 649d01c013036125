import type { BusinessActivities } from './business-types';
import { createCaseActivities, type CaseDeps } from './cases';
import { createClerkSyncActivities, type ClerkSyncDeps } from './clerk-sync';
import { createPaymentSessionActivities, type PaymentSessionDeps } from './payment-sessions';

/** The event ledger, the business stores (cases, payment sessions, Clerk links) and Clerk's clients. */
export type BusinessActivityDeps = ClerkSyncDeps & CaseDeps & PaymentSessionDeps;

/** The business handlers of the design table, built from injected dependencies. */
export function createBusinessActivities(deps: BusinessActivityDeps): BusinessActivities {
  return {
    ...createClerkSyncActivities(deps),
    ...createCaseActivities(deps),
    ...createPaymentSessionActivities(deps),
  };
}
