import { proxyLocalActivities } from '@temporalio/workflow';
import type { OutboundActivities, OutboundDispatchInput, OutboundMessageRef } from '../activities/types';

// Local activities: storing a message and a signal-with-start are short, and as markers they cost
// the event's workflow no scheduled tasks or extra history events (see bench/cost-probe.ts).
const { prepareOutboundMessages, enqueueOutboundMessage } = proxyLocalActivities<OutboundActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

/**
 * Called from a business workflow (e.g. processStripeEvent) to send one outbound event to every
 * endpoint of the tenant that subscribes to its type. Returns once each message is stored and
 * queued: delivery runs in separate `sequenceWebhookDeliveries` workflows started by
 * signal-with-start from an activity, so they are not children of the caller and outlive it
 * (the effect of ParentClosePolicy ABANDON, without the caller's history holding every delivery).
 * Not a workflow itself: do not export it from workflows/index.ts.
 */
export async function dispatchOutbound(input: OutboundDispatchInput): Promise<OutboundMessageRef[]> {
  const messages = await prepareOutboundMessages(input);
  await enqueuePreparedOutbound([messages]);
  return messages;
}

/**
 * Queues messages stored already (by prepareOutboundMessages, or within applyEventToState): per outbound
 * message its copies for every endpoint at once, one message after the other as they were emitted.
 */
export async function enqueuePreparedOutbound(messages: OutboundMessageRef[][]): Promise<void> {
  for (const copies of messages) await Promise.all(copies.map((message) => enqueueOutboundMessage(message)));
}
