import { defineSignal } from '@temporalio/workflow';
import type { OutboundMessageRef } from '../activities/types';

/** Adds a message to a running (endpoint, object) sequence; sent with signal-with-start by the enqueue activity. */
export const enqueueWebhookMessage = defineSignal<[OutboundMessageRef]>('enqueueWebhookMessage');

/** `<kind>:<business id>` ids (house style): one sequence per (endpoint, object), one delivery per message. */
export function sequenceWorkflowId(endpointId: string, orderKey: string): string {
  return `outbound-sequence:${endpointId}:${orderKey}`;
}

export function deliveryWorkflowId(messageId: string): string {
  return `outbound-delivery:${messageId}`;
}
