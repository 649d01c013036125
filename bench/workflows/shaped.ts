import { proxyLocalActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { HookflowOutcome } from '../../workflows/search-attributes';

/**
 * hookflow's workflow shape without its database work, for bench/temporal-shape-probe.ts: what
 * Temporal's server spends on each part. The task queue picks the part:
 * `shape-upsert` — the outcome upsert at the end; `shape-local-1` — one local activity before it
 * (state and outcome in one, as for a type without a business handler); `shape-local` — two;
 * any other queue — return at once.
 */
export interface ShapedActivities {
  stepResult(step: string): Promise<{ type: string; outcome: string; recorded: boolean; children: number }>;
}

const { stepResult } = proxyLocalActivities<ShapedActivities>({ startToCloseTimeout: '1 minute' });

export async function processStripeEvent(ref: { eventId: string }): Promise<string> {
  const queue = workflowInfo().taskQueue;
  if (queue === 'shape-local' || queue === 'shape-local-1') await stepResult(`state ${ref.eventId}`);
  if (queue === 'shape-local') await stepResult(`outcome ${ref.eventId}`);
  if (queue === 'shape-upsert' || queue === 'shape-local-1' || queue === 'shape-local') {
    upsertSearchAttributes([{ key: HookflowOutcome, value: 'applied' }]);
  }
  return ref.eventId;
}

export { trivialWorkflow } from './trivial';
