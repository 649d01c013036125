import { ApplicationFailure } from '@temporalio/activity';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowIdReusePolicy,
  type SearchAttributePair,
} from '@temporalio/common';
import {
  ENQUEUE_WEBHOOK_MESSAGE_SIGNAL,
  SEARCH_ATTRIBUTE_TYPES,
  sequenceWorkflowId,
  type SearchAttributeName,
} from '../src/contracts';
import { sendSignedWebhook } from '../src/outbound/http-sender';
import type { OutboundActivityDeps } from '../src/outbound/outbound-deps';
import type { AttemptOutcome, OutboundActivities, OutboundMessageRef, SequenceInput } from './outbound-types';

export type { OutboundActivityDeps } from '../src/outbound/outbound-deps';

/** The names in src/contracts.ts whose search attribute is a Keyword. */
type KeywordAttributeName = {
  [Name in SearchAttributeName]: (typeof SEARCH_ATTRIBUTE_TYPES)[Name] extends 'Keyword' ? Name : never;
}[SearchAttributeName];

/** Typed keys from the contract names, so activities never import workflow code for them. */
const keywordAttribute = (name: KeywordAttributeName) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);
const TenantId = keywordAttribute('TenantId');
const StripeObjectId = keywordAttribute('StripeObjectId');

/** The sequence workflow as the client sees it: started by name, typed by its input (no workflow import). */
type SequenceWebhookDeliveries = (input: SequenceInput) => Promise<{ delivered: number }>;

/** Outbound webhook activities over injected stores (no module-level clients, no models or locks). */
export function createOutboundActivities(deps: OutboundActivityDeps): OutboundActivities {
  const { endpoints, messages } = deps;

  return {
    async prepareOutboundMessages(input) {
      const matching = await endpoints.matching(input.tenantId, input.type);
      const refs: OutboundMessageRef[] = [];
      for (const endpoint of matching) {
        const message = await messages.upsert({ ...input, endpointId: endpoint.endpointId });
        if (message.status === 'delivered') continue;
        refs.push({
          messageId: message.messageId,
          endpointId: endpoint.endpointId,
          tenantId: input.tenantId,
          stripeEventId: input.stripeEventId,
          stripeEventCreated: input.stripeEventCreated,
          orderKey: input.objectId ?? message.messageId,
          objectId: input.objectId,
        });
      }
      deps.logger.info(
        { eventId: input.stripeEventId, type: input.type, endpoints: matching.length, queued: refs.length },
        'outbound messages prepared',
      );
      return refs;
    },

    async enqueueOutboundMessage(message) {
      const searchAttributes: SearchAttributePair[] = [{ key: TenantId, value: message.tenantId }];
      if (message.objectId) searchAttributes.push({ key: StripeObjectId, value: message.objectId });
      await deps.temporal.client.workflow.signalWithStart<SequenceWebhookDeliveries, [OutboundMessageRef]>(
        'sequenceWebhookDeliveries',
        {
          taskQueue: deps.temporal.taskQueue,
          workflowId: sequenceWorkflowId(message.endpointId, message.orderKey),
          // Also in the start arguments, so a fresh run has its first message before any signal handling.
          args: [{ endpointId: message.endpointId, orderKey: message.orderKey, plan: deps.plan, pending: [message] }],
          signal: ENQUEUE_WEBHOOK_MESSAGE_SIGNAL,
          signalArgs: [message],
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          typedSearchAttributes: searchAttributes,
        },
      );
    },

    async beginWebhookDelivery(messageId) {
      const message = await messages.find(messageId);
      if (!message)
        throw ApplicationFailure.nonRetryable(`no outbound message ${messageId}`, 'OutboundMessageNotFound');
      if (message.status === 'delivered') {
        return { deliver: false, attemptsSoFar: message.attempts, reason: 'already delivered' };
      }
      const endpoint = await endpoints.load(message.endpointId);
      if (!endpoint || !endpoint.enabled) {
        const reason = `endpoint ${message.endpointId} is disabled${endpoint?.disabledReason ? `: ${endpoint.disabledReason}` : ''}`;
        await messages.setStatus(messageId, 'skipped', reason);
        return { deliver: false, attemptsSoFar: message.attempts, reason };
      }
      await messages.setStatus(messageId, 'delivering');
      return { deliver: true, attemptsSoFar: message.attempts, reason: null };
    },

    async attemptWebhookDelivery({ messageId, attempt }): Promise<AttemptOutcome> {
      const message = await messages.find(messageId);
      if (!message)
        throw ApplicationFailure.nonRetryable(`no outbound message ${messageId}`, 'OutboundMessageNotFound');
      const endpoint = await endpoints.load(message.endpointId);
      if (!endpoint || !endpoint.enabled) {
        await messages.setStatus(messageId, 'skipped', `endpoint ${message.endpointId} was disabled`);
        deps.observe?.attempt('skipped');
        return { outcome: 'skipped', statusCode: null, error: 'endpoint disabled' };
      }
      const at = new Date();
      const result = await sendSignedWebhook({
        url: endpoint.url,
        webhookId: messageId,
        body: message.body,
        secrets: endpoints.signingSecretsOf(endpoint, at),
        allow: deps.allow,
        timeoutMs: deps.timeoutMs,
        guard: deps.guard,
      });
      await messages.recordAttempt({
        messageId,
        endpointId: endpoint.endpointId,
        attempt,
        statusCode: result.status,
        latencyMs: result.latencyMs,
        error: result.error ?? null,
        responseBody: result.responseBody,
        at,
      });
      const outcome = classify(result.status, result.error);
      deps.observe?.attempt(outcome);
      deps.logger.info(
        {
          eventId: message.stripeEventId,
          messageId,
          endpointId: endpoint.endpointId,
          attempt,
          status: result.status,
          latencyMs: result.latencyMs,
          error: result.error,
        },
        `outbound attempt ${outcome}`,
      );
      return {
        outcome,
        statusCode: result.status,
        ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
        ...(result.error === undefined ? {} : { error: result.error }),
      };
    },

    async markWebhookDelivered(messageId) {
      await messages.setStatus(messageId, 'delivered');
    },

    async markWebhookFailed({ messageId, error }) {
      await messages.setStatus(messageId, 'failed', error);
    },

    async disableWebhookEndpoint({ endpointId, messageId, reason }) {
      await endpoints.setEnabled(endpointId, false, reason);
      await messages.setStatus(messageId, 'failed', reason);
      deps.logger.warn({ endpointId, messageId, reason }, 'outbound endpoint disabled');
    },
  };
}

/** Standard Webhooks status etiquette: 2xx delivered, 410 disables the endpoint, everything else (3xx too) fails. */
function classify(status: number | null, error: string | undefined): AttemptOutcome['outcome'] {
  if (status !== null && status >= 200 && status < 300 && !error) return 'delivered';
  if (status === 410) return 'gone';
  return 'failed';
}
