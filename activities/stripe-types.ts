/** Contracts between the Stripe API workflows (backfill, catch-up) and their activities; types only. */

export type StripeMode = 'live' | 'sandbox';

/** Whose Stripe data: a tenant, one of its environments' keys, optionally a connected account. */
export interface StripeTarget {
  tenantId: string;
  /** Stored tenants: which environment's key (default: live, else sandbox). */
  environment?: StripeMode;
  /** Connect: the connected account whose data to read (`Stripe-Account`). */
  account?: string;
}

/**
 * Where a walk over the customers is (`payment_method`, whose objects are listed per customer): the
 * customers page being walked and the position inside the first customer's list. Each snapshot page
 * is one request, a customers page or one page of a customer's payment methods.
 */
export interface CustomerWalkCursor {
  /** `starting_after` of the next customers page; null before the first. */
  customersAfter: string | null;
  /** No customers page follows the current one. */
  lastCustomersPage: boolean;
  /** Customers of the current customers page whose list is not read in full yet; the first is being read. */
  customers: string[];
  /** `starting_after` inside the first customer's list; null for its first page. */
  after: string | null;
}

/** A resource list's cursor (id of the last object of the previous page), a customer walk's, or null at the start. */
export type SnapshotCursor = string | CustomerWalkCursor | null;

export interface SnapshotPageInput extends StripeTarget {
  runId: string;
  resource: string;
  /** Where the previous page ended; null for the first page. */
  cursor: SnapshotCursor;
  /** Unix seconds: only objects created at or after (`created[gte]`). */
  since: number | null;
}

export interface SnapshotPageResult {
  /** Objects on the page. */
  objects: number;
  /** Written (newest state so far), and left alone because an event newer than the snapshot was stored. */
  applied: number;
  stale: number;
  /** Cursor for the next page (the last object's id, or the walk's next position), null when the page was empty. */
  nextCursor: SnapshotCursor;
  hasMore: boolean;
  /** Unix seconds the page was requested at: the watermark its objects were written with. */
  snapshotAt: number;
  /** `created` of the page's first and last object (lists run newest first): how far back it reached. */
  firstCreated: number | null;
  lastCreated: number | null;
}

export interface CatchUpPageInput extends StripeTarget {
  /** Unix seconds: events created at or after. */
  since: number;
  cursor: string | null;
}

export interface CatchUpPageResult {
  seen: number;
  alreadyStored: number;
  stored: number;
  started: number;
  nextCursor: string | null;
  hasMore: boolean;
}

export interface StripeActivities {
  /** The mode of the tenant's key (so the workflow picks the rate-limited queue); fails when there is none. */
  stripeModeOf(target: StripeTarget): Promise<StripeMode>;
  snapshotPage(input: SnapshotPageInput): Promise<SnapshotPageResult>;
  catchUpPage(input: CatchUpPageInput): Promise<CatchUpPageResult>;
}
