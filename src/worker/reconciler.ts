import type { Logger } from '../logger';
import type { EventStore, InboxEntry } from '../stores/event-store';
import { summarizeEvent } from '../stripe/event-summary';
import type { StartEventWorkflowInput } from '../temporal/event-workflows';

export interface ReconcilerDeps {
  events: Pick<EventStore, 'inboxEntries' | 'findByKey' | 'releaseInbox' | 'requeueInbox'>;
  startWorkflow: (input: StartEventWorkflowInput) => Promise<unknown>;
  log: Logger;
  /** Inbox entries younger than this are left to the receiver that wrote them. */
  afterSeconds: number;
  intervalSeconds: number;
  /** Inbox entries read per pass. */
  batchSize?: number;
}

/** Backoff of an inbox entry whose starts failed: 15 s doubling to at most 10 minutes. */
function retryDelayMs(attempts: number): number {
  return Math.min(15_000 * 2 ** attempts, 10 * 60_000);
}

/**
 * Starts the workflows of stored events that the receiver acknowledged but did not start: Temporal
 * was unreachable, the receiver's start queue was full, or the receiver died after the write. Its
 * work list is the inbox (event-models.ts): small, read by a pushed-down `LIMIT`. Starting is
 * idempotent (USE_EXISTING; a completed run is not repeated), so several workers may run it.
 * An entry whose starts fail goes to the back of the inbox with a growing delay: it never blocks
 * newer entries and is never retried in a tight loop.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const batchSize = deps.batchSize ?? 100;

  async function reconcileEntry(entry: InboxEntry): Promise<number> {
    let started = 0;
    const failedKeys: string[] = [];
    for (const key of entry.eventKeys) {
      try {
        const event = await deps.events.findByKey(key);
        // Not stored (the receiver died between its two writes, or answered 503): nothing to start.
        // Outcome recorded: nothing to start either.
        if (!event || event.status === 'processed' || event.status === 'failed') continue;
        const summary = summarizeEvent(JSON.parse(event.rawBody) as Parameters<typeof summarizeEvent>[0]);
        await deps.startWorkflow({ tenantId: event.tenantId, summary });
        started++;
      } catch (error) {
        failedKeys.push(key);
        deps.log.warn({ err: error, eventKey: key }, 'reconciler could not start workflow; will retry');
      }
    }
    if (failedKeys.length === 0) await deps.events.releaseInbox(entry.id);
    else await deps.events.requeueInbox(entry, failedKeys, new Date(Date.now() + retryDelayMs(entry.attempts)));
    return started;
  }

  async function reconcileOnce(): Promise<number> {
    const now = Date.now();
    const ripeBefore = now - deps.afterSeconds * 1000;
    let started = 0;
    for (const entry of await deps.events.inboxEntries(batchSize)) {
      if (entry.receivedAt.getTime() > ripeBefore || entry.notBefore.getTime() > now) continue;
      started += await reconcileEntry(entry);
    }
    if (started > 0) deps.log.info({ started }, 'reconciler started deferred workflows');
    return started;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | null = null;
  return {
    reconcileOnce,
    start() {
      timer = setInterval(() => {
        if (running) return; // a long pass (a large backlog) is not overlapped by the next one
        running = reconcileOnce()
          .catch((error: unknown) => deps.log.warn({ err: error }, 'reconciler pass failed'))
          .finally(() => {
            running = null;
          });
      }, deps.intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
