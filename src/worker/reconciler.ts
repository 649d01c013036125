import type { EventLedger } from '../stores/event-store';
import type { Logger } from '../logger';
import { summarizeEvent } from '../stripe/event-summary';
import type { StartEventWorkflowInput } from '../temporal/event-workflows';

export interface ReconcilerDeps {
  ledger: EventLedger;
  startWorkflow: (input: StartEventWorkflowInput) => Promise<unknown>;
  log: Logger;
  afterSeconds: number;
  /** Events `processing` for longer than this get their workflow started again (idempotent). */
  stalledAfterSeconds: number;
  intervalSeconds: number;
  batchSize?: number;
}

/**
 * Starts workflows for events that were stored but never began processing (Temporal was
 * unreachable when the receiver acknowledged them, or no worker ran), and again for events whose
 * workflow died while `processing` without recording an outcome. Starting is idempotent: a run
 * that exists already is reused (USE_EXISTING), a completed one is not repeated.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const batchSize = deps.batchSize ?? 100;

  async function reconcileOnce(): Promise<number> {
    const now = Date.now();
    const stalledBefore = now - deps.stalledAfterSeconds * 1000;
    const pending = await deps.ledger.findPending(new Date(now - deps.afterSeconds * 1000), batchSize);
    let started = 0;
    for (const entry of pending) {
      try {
        const event = await deps.ledger.find(entry.tenantId, entry.eventId);
        if (!event || event.status === 'processed' || event.status === 'failed') {
          // The outcome was recorded but the pending row not removed (a crash in between).
          await deps.ledger.clearPending(entry.tenantId, entry.eventId);
          continue;
        }
        // `processing` means a run is (or was) at work: only when it has been so for long is it
        // presumed dead. A start would reuse a live run anyway; the wait keeps restarts deliberate.
        if (event.status === 'processing' && entry.receivedAt.getTime() >= stalledBefore) continue;
        const summary = summarizeEvent(JSON.parse(event.rawBody) as Parameters<typeof summarizeEvent>[0]);
        await deps.startWorkflow({ tenantId: event.tenantId, summary });
        started++;
      } catch (error) {
        deps.log.warn({ err: error, eventId: entry.eventId }, 'reconciler could not start workflow; will retry');
      }
    }
    if (started > 0) deps.log.info({ started }, 'reconciler started deferred workflows');
    return started;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    reconcileOnce,
    start() {
      timer = setInterval(() => {
        running = reconcileOnce().catch((error: unknown) => deps.log.warn({ err: error }, 'reconciler pass failed'));
      }, deps.intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
