import {
  CancellationScope,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { BulkRerunActivities, BulkRerunCounters } from '../activities/types';

export interface BulkRerunInput {
  jobId: string;
  filter: Record<string, string>;
  /** Events started per second (HOOKFLOW_RERUN_RATE): a bulk re-run never floods the workers. */
  perSecond: number;
  /** Where the previous run (before continueAsNew) stopped. */
  cursor: string | null;
  done: number;
  counters?: BulkRerunCounters;
}

const { bulkRerunPage, bulkRerunEvent, bulkRerunProgress } = proxyActivities<BulkRerunActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

const PAGE_SIZE = 25;
/** Pages per run before continueAsNew keeps the history short (each event costs a few events). */
const PAGES_PER_RUN = 20;

/**
 * A bulk re-run job (workflow id `bulk-rerun:<tenant>`: one per tenant at a time). Pages through the
 * tenant's currently failed events matching the filter, newest first, and re-runs them one by one
 * at `perSecond`; each event is re-checked when its turn comes, so one fixed meanwhile is skipped.
 * Progress goes to the job record after every event. Cancelling stops it between two events: the
 * final counters are written in a non-cancellable scope and the workflow ends CANCELED.
 */
export async function bulkRerunEvents(input: BulkRerunInput): Promise<BulkRerunCounters> {
  const counters: BulkRerunCounters = input.counters ?? { started: 0, skipped: 0, failedStarts: 0, lastError: null };
  const tenantId = input.filter.tenant!;
  const gapMs = Math.max(1, Math.round(1000 / Math.max(0.01, input.perSecond)));
  let cursor = input.cursor;
  try {
    for (let pages = 0; ; pages++) {
      if (pages >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof bulkRerunEvents>({ ...input, cursor, counters });
      }
      const page = await bulkRerunPage({ jobId: input.jobId, filter: input.filter, cursor, limit: PAGE_SIZE });
      for (const eventId of page.eventIds) {
        const { result, error } = await bulkRerunEvent({ jobId: input.jobId, tenantId, eventId });
        if (result === 'started') counters.started++;
        else if (result === 'skipped') counters.skipped++;
        else {
          counters.failedStarts++;
          counters.lastError = error;
        }
        // Progress after every event: the CLI's bar and the admin page move as the job does.
        await bulkRerunProgress({ jobId: input.jobId, counters, state: 'running' });
        if (result === 'started') await sleep(gapMs);
      }
      if (!page.cursor) {
        await bulkRerunProgress({ jobId: input.jobId, counters, state: 'completed' });
        return counters;
      }
      cursor = page.cursor;
    }
  } catch (error) {
    if (error instanceof ContinueAsNew) throw error;
    if (isCancellation(error)) {
      await CancellationScope.nonCancellable(() =>
        bulkRerunProgress({ jobId: input.jobId, counters, state: 'cancelled' }),
      );
    } else {
      await CancellationScope.nonCancellable(() =>
        bulkRerunProgress({
          jobId: input.jobId,
          counters: { ...counters, lastError: error instanceof Error ? error.message : String(error) },
          state: 'failed',
        }),
      );
    }
    throw error;
  }
}
