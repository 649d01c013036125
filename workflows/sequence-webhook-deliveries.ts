import {
  continueAsNew,
  executeChild,
  log,
  ParentClosePolicy,
  setHandler,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { OutboundMessageRef, SequenceInput } from '../activities/types';
import { deliveryWorkflowId } from '../src/contracts';
import type { deliverWebhook } from './deliver-webhook';
import { deliverySearchAttributes } from './delivery-search-attributes';
import { enqueueWebhookMessage } from './outbound-signals';

/** Bounds history: a busy object's sequence continues as new after this many deliveries. */
const DELIVERIES_PER_RUN = 100;

/**
 * Per (endpoint, object) ordering (workflow id `outbound-sequence:<endpoint>:<object>`): messages
 * arrive by signal-with-start and are delivered one at a time, oldest Stripe event first, each by
 * a `deliverWebhook` child. A later message therefore waits while an earlier one is still being
 * retried. The run ends when the queue is empty; a signal that races with the end makes Temporal
 * reject the completion and replay it with the signal, so no message is lost.
 */
export async function sequenceWebhookDeliveries(input: SequenceInput): Promise<{ delivered: number }> {
  const pending: OutboundMessageRef[] = [];
  const seen = new Set<string>();
  const add = (message: OutboundMessageRef) => {
    // The enqueue activity may run twice; a duplicate is harmless but needs no second delivery.
    if (seen.has(message.messageId)) return;
    seen.add(message.messageId);
    const later = pending.findIndex((queued) => queued.stripeEventCreated > message.stripeEventCreated);
    pending.splice(later === -1 ? pending.length : later, 0, message);
  };
  input.pending.forEach(add);
  setHandler(enqueueWebhookMessage, add);

  let delivered = 0;
  while (pending.length > 0) {
    if (delivered >= DELIVERIES_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof sequenceWebhookDeliveries>({ ...input, pending });
    }
    const message = pending.shift()!;
    try {
      await executeChild<typeof deliverWebhook>('deliverWebhook', {
        workflowId: deliveryWorkflowId(message.messageId),
        args: [{ message, plan: input.plan }],
        // Mongo's message status is the lasting dedupe; the child checks it before sending.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        // Searchable from its start event (no extra history event); the child sets the final outcome.
        typedSearchAttributes: deliverySearchAttributes(message),
      });
    } catch (error) {
      // One broken message must not hold back the rest of the object's messages for ever.
      log.warn('outbound delivery workflow failed', {
        messageId: message.messageId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    delivered++;
  }
  return { delivered };
}
