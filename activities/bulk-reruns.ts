import { ApplicationFailure } from '@temporalio/activity';
import type { Stores } from '../src/stores';
import { RerunRefused, type RerunService } from '../src/support/reruns';
import type { BulkRerunActivities } from './bulk-rerun-types';

export interface BulkRerunActivityDeps {
  reruns: RerunService;
  stores: Pick<Stores, 'events'>;
}

/** The bulk re-run job's steps, over the same re-run service the API and CLI use. */
export function createBulkRerunActivities(deps: BulkRerunActivityDeps): BulkRerunActivities {
  const { reruns, stores } = deps;

  async function jobOf(jobId: string) {
    const job = await stores.events.getBulkRerun(jobId);
    if (!job) throw ApplicationFailure.nonRetryable(`bulk re-run ${jobId} has no job record`, 'BulkRerunNotFound');
    return job;
  }

  return {
    async bulkRerunPage(input) {
      return reruns.failedEventsPage(input.filter, input.cursor, input.limit);
    },

    async bulkRerunEvent(input) {
      const job = await jobOf(input.jobId);
      try {
        await reruns.rerunEvent({
          eventId: input.eventId,
          tenantId: input.tenantId,
          reason: job.reason,
          by: job.by,
          bulkJobId: job.id,
        });
        return { result: 'started', error: null };
      } catch (error) {
        // Only events failed *now* are re-run: one fixed or re-run since the plan is skipped.
        if (error instanceof RerunRefused) return { result: 'skipped', error: null };
        if (error instanceof Error && error.name === 'EventNotFound') return { result: 'skipped', error: null };
        return { result: 'failed', error: error instanceof Error ? error.message : String(error) };
      }
    },

    async bulkRerunProgress(input) {
      const final = input.state !== 'running';
      await stores.events.updateBulkRerun(input.jobId, {
        ...input.counters,
        state: input.state,
        ...(final ? { finishedAt: new Date() } : {}),
      });
    },
  };
}
