import type { BusinessActivities, BusinessResult } from './business-types';
import type { StoredEvent } from './stored-event';
import type { EventRef } from './types';

/**
 * The business handlers over an event already read: the activity of each reads it first, and the
 * object state's local activity (`applyEventToState`) hands over the event it read for the state.
 */
export type BusinessHandlers = {
  [Name in keyof BusinessActivities]: (ref: EventRef, event: StoredEvent) => Promise<BusinessResult>;
};
