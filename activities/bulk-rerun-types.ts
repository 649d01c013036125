/** Contracts between the bulk re-run workflow and its activities; the workflow imports types only. */

export interface BulkRerunCounters {
  started: number;
  skipped: number;
  failedStarts: number;
  lastError: string | null;
}

export interface BulkRerunPageInput {
  jobId: string;
  /** Normalized filter (reruns.ts planBulkRerun): tenant, status failed, type, object, customer, since, until. */
  filter: Record<string, string>;
  /** List key after which to continue (null: from the newest). */
  cursor: string | null;
  limit: number;
}

export interface BulkRerunActivities {
  /** The next page of events whose status is failed right now, newest first. */
  bulkRerunPage(input: BulkRerunPageInput): Promise<{ eventIds: string[]; cursor: string | null }>;
  /**
   * Re-runs one event for the job: `skipped` when it is no longer failed (fixed or re-run since the
   * plan), `failed` when Temporal refused the start (the reason is kept on the job).
   */
  bulkRerunEvent(input: {
    jobId: string;
    tenantId: string;
    eventId: string;
  }): Promise<{ result: 'started' | 'skipped' | 'failed'; error: string | null }>;
  /** Progress (and at the end the final state) on the job record that the API and CLI read. */
  bulkRerunProgress(input: {
    jobId: string;
    counters: BulkRerunCounters;
    state: 'running' | 'completed' | 'cancelled' | 'failed';
  }): Promise<void>;
}
