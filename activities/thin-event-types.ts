/** Contract between processStripeEvent and the thin-event activity; types only. */
import type { EventRef } from '../src/contracts';

export interface ThinFetchResult {
  /** The event and its related object were fetched and stored beside the notification. */
  fetched: boolean;
  /** The snapshot type it is applied as (`customer.updated`), null when nothing was fetched. */
  snapshotType: string | null;
}

export interface ThinEventActivities {
  /**
   * Re-parses the stored thin notification with the SDK, fetches its event and related object from
   * the tenant's Stripe API and stores them as the snapshot-shaped event the state and business
   * activities read. Nothing to fetch (`v2.core.*`, no related object): returns `fetched: false`.
   */
  fetchThinEvent(ref: EventRef): Promise<ThinFetchResult>;
}
