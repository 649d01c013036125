import { continueAsNew, defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { CatchUpPageResult, StripeActivities, StripeMode, StripeTarget } from '../activities/types';
import { stripeApiTaskQueue } from '../src/contracts';

export interface CatchUpInput extends StripeTarget {
  runId: string;
  /** Unix seconds, or a window in seconds back from the run's start (what a Schedule passes). */
  since?: number;
  windowSeconds?: number;
  carried?: CatchUpProgress;
}

export interface CatchUpProgress {
  state: 'running' | 'completed';
  since: number;
  pages: number;
  seen: number;
  alreadyStored: number;
  stored: number;
  started: number;
  cursor: string | null;
}

export const catchUpProgressQuery = defineQuery<CatchUpProgress>('catchUpProgress');

const { stripeModeOf } = proxyActivities<StripeActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 10 },
});

/**
 * Catch-up after downtime (design: "Catch-up"): pages `GET /v1/events` back to `since` and feeds every
 * event through the receiver's own path — the same ledger insert and workflow id — so an event stored
 * before is not run again and a Stripe retry that arrives later is a duplicate. Started by
 * `hookflow catch-up` or by the CATCHUP_SCHEDULE Schedule.
 */
export async function catchUpStripeEvents(input: CatchUpInput): Promise<CatchUpProgress> {
  const since = input.since ?? Math.floor(Date.now() / 1000) - (input.windowSeconds ?? 3600);
  const progress: CatchUpProgress = input.carried ?? {
    state: 'running',
    since,
    pages: 0,
    seen: 0,
    alreadyStored: 0,
    stored: 0,
    started: 0,
    cursor: null,
  };
  setHandler(catchUpProgressQuery, () => progress);
  const mode: StripeMode = await stripeModeOf(input);
  const { catchUpPage } = proxyActivities<StripeActivities>({
    taskQueue: stripeApiTaskQueue(workflowInfo().taskQueue, mode),
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 50 },
  });
  let pagesThisRun = 0;
  for (;;) {
    const page: CatchUpPageResult = await catchUpPage({
      tenantId: input.tenantId,
      environment: input.environment,
      account: input.account,
      since: progress.since,
      cursor: progress.cursor,
    });
    pagesThisRun++;
    progress.pages++;
    progress.seen += page.seen;
    progress.alreadyStored += page.alreadyStored;
    progress.stored += page.stored;
    progress.started += page.started;
    progress.cursor = page.nextCursor ?? progress.cursor;
    if (!page.hasMore) break;
    if (pagesThisRun >= 250 || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof catchUpStripeEvents>({ ...input, since: progress.since, carried: progress });
    }
  }
  progress.state = 'completed';
  return progress;
}
