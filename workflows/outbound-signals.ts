import { defineSignal } from '@temporalio/workflow';
import type { OutboundMessageRef } from '../activities/types';
import { ENQUEUE_WEBHOOK_MESSAGE_SIGNAL } from '../src/contracts';

/**
 * Adds a message to a running (endpoint, object) sequence. The enqueue activity sends it with
 * signal-with-start by the same name (src/contracts.ts), without importing workflow code.
 */
export const enqueueWebhookMessage = defineSignal<[OutboundMessageRef]>(ENQUEUE_WEBHOOK_MESSAGE_SIGNAL);
