import type { BusinessActivities, BusinessResult } from './business-types';
import type { StoredEvent } from './stored-event';
import type { EventRef } from './types';

/**
 * The business handlers over an event already read: the activity of each reads it first, and the
 * worker's one-activity path (`processEvent`) hands over the event it read for the object state.
 */
export type BusinessHandlers = {
  [Name in keyof BusinessActivities]: (ref: EventRef, event: StoredEvent) => Promise<BusinessResult>;
};
