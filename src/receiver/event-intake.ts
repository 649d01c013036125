import type { EventStore, ReceivedEvent, RecordedEvent } from '../stores/event-store';
import type { WorkflowStarter } from '../temporal/workflow-starter';

export interface EventIntakeDeps {
  events: Pick<EventStore, 'recordBatch' | 'releaseInbox'>;
  starter: WorkflowStarter;
  /** Most deliveries written by one group commit. */
  maxBatch: number;
  /** Redeliveries of failed events that this write restarted (counted as re-runs by `redelivery`). */
  onRestarted?: (count: number) => void;
}

export interface EventIntake {
  /** Resolves once the event is durably stored (or found stored): the delivery can be acknowledged. */
  submit(item: ReceivedEvent): Promise<RecordedEvent>;
  /** Deliveries waiting for their group commit. */
  waiting(): number;
}

interface Waiting {
  item: ReceivedEvent;
  resolve: (result: RecordedEvent) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: one write at a time, and every delivery that arrives while a write is in flight
 * joins the next one. An idle receiver writes a lone delivery at once (no batching delay); a busy
 * one writes tens of deliveries with the same two round trips (store.recordBatch). Each delivery is
 * acknowledged only after the write that holds it completed; then the workflow starts are handed to
 * the starter, which runs them after the answer.
 */
export function createEventIntake(deps: EventIntakeDeps): EventIntake {
  let pending: Waiting[] = [];
  let writing = false;

  async function writeNext(): Promise<void> {
    if (writing || pending.length === 0) return;
    writing = true;
    const batch = pending.slice(0, deps.maxBatch);
    pending = pending.slice(batch.length);
    try {
      const { inboxId, results } = await deps.events.recordBatch(batch.map((entry) => entry.item));
      const inputs = batch
        .filter((_, index) => results[index]!.needsStart)
        .map(({ item }) => ({ tenantId: item.tenantId, summary: item.summary }));
      if (inputs.length === 0) {
        await deps.events.releaseInbox(inboxId).catch(() => undefined);
      } else {
        deps.starter.enqueue({ inboxId, inputs, acknowledgedAt: Date.now() });
      }
      const restarted = results.filter((result) => result.restarted).length;
      if (restarted > 0) deps.onRestarted?.(restarted);
      batch.forEach((entry, index) => entry.resolve(results[index]!));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      writing = false;
      void writeNext();
    }
  }

  return {
    submit(item) {
      return new Promise<RecordedEvent>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        void writeNext();
      });
    },
    waiting: () => pending.length,
  };
}
