import type { EventLedger } from '../db/event-ledger';
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
    const pending = await deps.ledger.findStalled(
      new Date(now - deps.afterSeconds * 1000),
      new Date(now - deps.stalledAfterSeconds * 1000),
      batchSize,
    );
    let started = 0;
    for (const event of pending) {
      try {
        const summary = summarizeEvent(JSON.parse(event.rawBody) as Parameters<typeof summarizeEvent>[0]);
        await deps.startWorkflow({ tenantId: event.tenantId, summary });
        started++;
      } catch (error) {
        deps.log.warn({ err: error, eventId: event.eventId }, 'reconciler could not start workflow; will retry');
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
