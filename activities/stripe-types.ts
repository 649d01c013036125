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

export interface SnapshotPageInput extends StripeTarget {
  runId: string;
  resource: string;
  /** Id of the last object of the previous page; null for the first page. */
  cursor: string | null;
  /** Unix seconds: only objects created at or after (`created[gte]`). */
  since: number | null;
}

export interface SnapshotPageResult {
  /** Objects on the page. */
  objects: number;
  /** Written (newest state so far), and left alone because an event newer than the snapshot was stored. */
  applied: number;
  stale: number;
  /** Cursor for the next page (the last object's id), null when the page was empty. */
  nextCursor: string | null;
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
