import {
  ApplicationFailure,
  CancellationScope,
  continueAsNew,
  defineQuery,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SnapshotCursor, StripeActivities, StripeMode, StripeTarget } from '../activities/types';
import { BACKFILL_PROGRESS_QUERY, backfillResourceWorkflowId, stripeApiTaskQueue } from '../src/contracts';

export interface BackfillInput extends StripeTarget {
  runId: string;
  resources: string[];
  /** Unix seconds: only objects created at or after; null = all history. */
  since: number | null;
}

export interface BackfillResourceInput extends StripeTarget {
  runId: string;
  resource: string;
  since: number | null;
  mode: StripeMode;
  /** Progress carried over by continueAsNew. */
  carried?: ResourceProgress;
}

export type BackfillState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export interface ResourceProgress {
  resource: string;
  state: BackfillState;
  objects: number;
  pages: number;
  /** Written as the newest state, and left alone because a newer event had been stored. */
  applied: number;
  stale: number;
  /** Next page starts after this object id (for payment_method: where the walk over the customers is). */
  cursor: SnapshotCursor;
  /** Unix ms (workflow time). */
  startedAt: number;
  updatedAt: number;
  /** Objects and list requests per second since the start. */
  objectsPerSecond: number;
  pagesPerSecond: number;
  /** Estimated seconds left; only known with --since (lists give no totals, but run newest first). */
  etaSeconds: number | null;
  /** `created` of the newest object seen: with `since`, how far back the pages have come is progress. */
  newestCreated: number | null;
  oldestCreated: number | null;
  error: string | null;
}

export interface BackfillRunProgress {
  runId: string;
  tenantId: string;
  state: BackfillState;
  mode: StripeMode | null;
  resources: Array<{ resource: string; workflowId: string; state: BackfillState; error: string | null }>;
}

export const backfillProgressQuery = defineQuery<BackfillRunProgress>(BACKFILL_PROGRESS_QUERY);
export const resourceProgressQuery = defineQuery<ResourceProgress>(BACKFILL_PROGRESS_QUERY);

/** Reading the key's mode is one database read: short retries, and no key fails at once. */
const { stripeModeOf } = proxyActivities<StripeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 10 },
});

/** Pages per run before continueAsNew (each page adds ~6 history events), unless Temporal suggests it sooner. */
const PAGES_PER_RUN = 250;

/**
 * A snapshot backfill (workflow id `backfill:<tenant>:<run>`): one child per resource
 * (`backfill:<tenant>:<run>:<resource>`), run side by side; their requests share the rate-limited
 * Stripe queue of the key's mode. Cancelling the run cancels its children.
 */
export async function backfillStripe(input: BackfillInput): Promise<BackfillRunProgress> {
  const run: BackfillRunProgress = {
    runId: input.runId,
    tenantId: input.tenantId,
    state: 'running',
    mode: null,
    resources: input.resources.map((resource) => ({
      resource,
      workflowId: backfillResourceWorkflowId(input.tenantId, input.runId, resource),
      state: 'pending',
      error: null,
    })),
  };
  setHandler(backfillProgressQuery, () => run);
  try {
    run.mode = await stripeModeOf(input);
  } catch (error) {
    run.state = 'failed';
    throw error;
  }
  const mode = run.mode;
  const settled = await Promise.allSettled(
    run.resources.map(async (entry) => {
      entry.state = 'running';
      try {
        const result = await executeChild(backfillStripeResource, {
          workflowId: entry.workflowId,
          args: [
            {
              tenantId: input.tenantId,
              environment: input.environment,
              account: input.account,
              runId: input.runId,
              resource: entry.resource,
              since: input.since,
              mode,
            },
          ],
        });
        entry.state = result.state;
      } catch (error) {
        entry.state = isCancellation(error) ? 'cancelled' : 'failed';
        entry.error = messageOf(error);
        throw error;
      }
    }),
  );
  const failed = settled.filter((outcome) => outcome.status === 'rejected');
  if (failed.length === 0) {
    run.state = 'completed';
    return run;
  }
  const cancelled = run.resources.every((entry) => entry.state !== 'failed');
  run.state = cancelled ? 'cancelled' : 'failed';
  if (cancelled && CancellationScope.current().consideredCancelled) throw (failed[0] as PromiseRejectedResult).reason;
  throw ApplicationFailure.nonRetryable(
    `backfill ${input.runId}: ${run.resources
      .filter((entry) => entry.error)
      .map((entry) => `${entry.resource} ${entry.state} (${entry.error})`)
      .join('; ')}`,
    'BackfillFailed',
  );
}

/**
 * One resource of a backfill: pages of 100 through the SDK, newest first, each page one activity on
 * the Stripe queue of the key's mode. The cursor lives in this workflow's state (recorded in its
 * history), and each page activity heartbeats it: a worker killed mid-page loses only that page,
 * which the next attempt reads again from the same cursor; finished pages are never read again.
 */
export async function backfillStripeResource(input: BackfillResourceInput): Promise<ResourceProgress> {
  const progress: ResourceProgress = input.carried ?? {
    resource: input.resource,
    state: 'running',
    objects: 0,
    pages: 0,
    applied: 0,
    stale: 0,
    cursor: null,
    startedAt: Date.now(),
    updatedAt: Date.now(),
    objectsPerSecond: 0,
    pagesPerSecond: 0,
    etaSeconds: null,
    newestCreated: null,
    oldestCreated: null,
    error: null,
  };
  setHandler(resourceProgressQuery, () => progress);
  // 429s (StripeRateLimited) and timeouts / 5xx (StripeUnavailable) retry with backoff; another 4xx
  // (bad key, missing permission) is non-retryable and fails the resource with Stripe's message.
  const { snapshotPage } = proxyActivities<StripeActivities>({
    taskQueue: stripeApiTaskQueue(workflowInfo().taskQueue, input.mode),
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '20 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 50 },
  });
  let pagesThisRun = 0;
  try {
    for (;;) {
      const page = await snapshotPage({
        tenantId: input.tenantId,
        environment: input.environment,
        account: input.account,
        runId: input.runId,
        resource: input.resource,
        cursor: progress.cursor,
        since: input.since,
      });
      pagesThisRun++;
      record(progress, page, input.since);
      if (!page.hasMore) break;
      if (pagesThisRun >= PAGES_PER_RUN || workflowInfo().continueAsNewSuggested) {
        await continueAsNew<typeof backfillStripeResource>({ ...input, carried: progress });
      }
    }
  } catch (error) {
    progress.state = isCancellation(error) ? 'cancelled' : 'failed';
    progress.error = messageOf(error);
    throw error;
  }
  progress.state = 'completed';
  progress.etaSeconds = 0;
  return progress;
}

function record(
  progress: ResourceProgress,
  page: Awaited<ReturnType<StripeActivities['snapshotPage']>>,
  since: number | null,
): void {
  progress.pages++;
  progress.objects += page.objects;
  progress.applied += page.applied;
  progress.stale += page.stale;
  progress.cursor = page.nextCursor ?? progress.cursor;
  progress.newestCreated ??= page.firstCreated;
  progress.oldestCreated = page.lastCreated ?? progress.oldestCreated;
  progress.updatedAt = Date.now();
  const seconds = Math.max((progress.updatedAt - progress.startedAt) / 1000, 0.001);
  progress.objectsPerSecond = progress.objects / seconds;
  progress.pagesPerSecond = progress.pages / seconds;
  // Lists run newest first: with a lower bound, the share of the time range covered is the progress.
  const { newestCreated, oldestCreated } = progress;
  if (since !== null && newestCreated !== null && oldestCreated !== null && newestCreated > since) {
    const done = Math.min(1, (newestCreated - oldestCreated) / (newestCreated - since));
    progress.etaSeconds = done > 0 ? Math.round((seconds * (1 - done)) / done) : null;
  }
}

function messageOf(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && (current as { cause?: unknown }).cause instanceof Error) {
    current = (current as { cause: Error }).cause;
  }
  return current instanceof Error ? current.message : String(current);
}
