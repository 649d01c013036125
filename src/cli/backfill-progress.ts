import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { BackfillRunProgress, ResourceProgress } from '../../workflows/backfill-stripe';
import { BACKFILL_PROGRESS_QUERY, backfillWorkflowId } from '../contracts';

export interface BackfillSnapshot {
  run: BackfillRunProgress;
  resources: ResourceProgress[];
  /** The run's workflow has closed (completed, failed, cancelled or terminated). */
  closed: boolean;
  status: string;
}

/** Reads a run's progress: the parent's query for the list, each resource child's query for its numbers. */
export async function readBackfill(client: Client, tenantId: string, runId: string): Promise<BackfillSnapshot> {
  const handle = client.workflow.getHandle(backfillWorkflowId(tenantId, runId));
  const description = await handle.describe();
  const run = await handle.query<BackfillRunProgress>(BACKFILL_PROGRESS_QUERY);
  const resources = await Promise.all(
    run.resources.map(async (entry): Promise<ResourceProgress> => {
      try {
        return await client.workflow.getHandle(entry.workflowId).query<ResourceProgress>(BACKFILL_PROGRESS_QUERY);
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
        return emptyProgress(entry.resource, entry.state, entry.error);
      }
    }),
  );
  const status = description.status.name;
  return { run, resources, closed: status !== 'RUNNING', status };
}

function emptyProgress(resource: string, state: ResourceProgress['state'], error: string | null): ResourceProgress {
  return {
    resource,
    state,
    objects: 0,
    pages: 0,
    applied: 0,
    stale: 0,
    cursor: null,
    startedAt: 0,
    updatedAt: 0,
    objectsPerSecond: 0,
    pagesPerSecond: 0,
    etaSeconds: null,
    newestCreated: null,
    oldestCreated: null,
    error,
  };
}

/** One plain line per resource: what a non-TTY (CI log, pipe) gets instead of bars. */
export function progressLine(progress: ResourceProgress): string {
  const eta =
    progress.etaSeconds === null || progress.state !== 'running' ? '' : `, ETA ${formatSeconds(progress.etaSeconds)}`;
  const stale = progress.stale > 0 ? ` (${progress.stale} kept a newer event's state)` : '';
  return (
    `${progress.resource}: ${progress.state}, ${progress.objects} objects${stale}, ${progress.pages} pages, ` +
    `${progress.objectsPerSecond.toFixed(1)} objects/s${eta}${progress.error ? ` — ${progress.error}` : ''}`
  );
}

export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/**
 * Follows a run until it closes (or Ctrl-C, which leaves it running): a cli-progress bar per
 * resource on a terminal, a plain line per resource whenever its numbers change otherwise.
 */
export async function followBackfill(
  client: Client,
  tenantId: string,
  runId: string,
  out: NodeJS.WriteStream = process.stdout,
): Promise<BackfillSnapshot> {
  const tty = out.isTTY === true;
  const { MultiBar, Presets } = await import('cli-progress');
  const multibar = tty
    ? new MultiBar(
        {
          format: '{resource} {bar} {value} objects | {pages} pages | {rate}/s | {state}{eta}',
          hideCursor: true,
          clearOnComplete: false,
          stream: out,
        },
        Presets.shades_classic,
      )
    : null;
  const bars = new Map<string, ReturnType<NonNullable<typeof multibar>['create']>>();
  const lastLine = new Map<string, string>();
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);
  let snapshot: BackfillSnapshot;
  try {
    for (;;) {
      snapshot = await readBackfill(client, tenantId, runId);
      for (const progress of snapshot.resources) {
        if (multibar) {
          // Lists carry no totals: the bar's end moves one page ahead until the resource is done.
          const total =
            progress.state === 'running' || progress.state === 'pending' ? progress.objects + 100 : progress.objects;
          const payload = {
            resource: progress.resource.padEnd(19),
            pages: progress.pages,
            rate: progress.objectsPerSecond.toFixed(1),
            state: progress.state,
            eta:
              progress.etaSeconds !== null && progress.state === 'running'
                ? ` ETA ${formatSeconds(progress.etaSeconds)}`
                : '',
          };
          let bar = bars.get(progress.resource);
          if (!bar) {
            bar = multibar.create(Math.max(total, 1), progress.objects, payload);
            bars.set(progress.resource, bar);
          }
          bar.setTotal(Math.max(total, 1));
          bar.update(progress.objects, payload);
        } else {
          const line = progressLine(progress);
          // Rate changes every poll; print when the counts or the state changed.
          const key = `${progress.state}:${progress.objects}:${progress.pages}`;
          if (lastLine.get(progress.resource) !== key) {
            out.write(`${line}\n`);
            lastLine.set(progress.resource, key);
          }
        }
      }
      if (snapshot.closed || interrupted) break;
      await new Promise((resolve) => setTimeout(resolve, tty ? 250 : 1000));
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    multibar?.stop();
  }
  return snapshot!;
}
