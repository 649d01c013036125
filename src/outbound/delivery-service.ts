import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type SearchAttributePair,
} from '@temporalio/common';
import { deliveryWorkflowId, OUTBOUND_TYPES } from '../contracts';
import type { EndpointStore } from '../stores/endpoint-store';
import {
  UNDELIVERED_STATUSES,
  type AttemptDoc,
  type MessageDoc,
  type MessageListQuery,
  type MessageStatus,
  type MessageStore,
} from '../stores/message-store';
import type { DeliveryPlan } from './delivery-plan';

/** Most messages one `recover` call resends; the answer says when more are left (call again). */
export const RECOVER_BATCH_LIMIT = 1_000;

export class DeliveryNotFound extends Error {
  override readonly name = 'DeliveryNotFound';
}

/** The message is delivered, or a delivery of it is running: nothing to resend. */
export class NotResendable extends Error {
  override readonly name = 'NotResendable';
}

/** Resending to a disabled endpoint would only skip again: enable it first. */
export class EndpointDisabled extends Error {
  override readonly name = 'EndpointDisabled';
}

/** One outbound message as support sees it: its `webhook-id`, where it goes, how it went. */
export interface DeliveryView {
  /** The Standard Webhooks `webhook-id`, the same on every attempt and every resend. */
  messageId: string;
  tenantId: string;
  endpointId: string;
  stripeEventId: string;
  type: string;
  status: MessageStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
  /** The Temporal workflow of its latest delivery run. */
  workflowId: string;
  resends: Array<{ by: string; trigger: string; at: Date }>;
}

export interface AttemptView {
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  /** First KiB of the merchant's answer. */
  responseBody: string;
  at: Date;
}

export interface ResendResult {
  messageId: string;
  endpointId: string;
  workflowId: string;
}

export interface RecoverResult {
  endpointId: string;
  since: Date;
  /** Messages resent (their delivery workflows started). */
  resent: string[];
  /** Messages found but not resent, each with why (e.g. a delivery already running). */
  skipped: Array<{ messageId: string; reason: string }>;
  /** More than RECOVER_BATCH_LIMIT messages failed since then: call again for the rest. */
  more: boolean;
}

export interface DeliveryServiceDeps {
  messages: MessageStore;
  endpoints: EndpointStore;
  /** Starts resends; null for read-only use (lists work while Temporal is away). */
  temporal: Client | null;
  /** The worker's task queue: resends run on the same workers as first deliveries. */
  taskQueue: string;
  plan: DeliveryPlan;
}

const TenantId = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
const StripeObjectId = defineSearchAttributeKey('StripeObjectId', SearchAttributeType.KEYWORD);
const HookflowOutcome = defineSearchAttributeKey('HookflowOutcome', SearchAttributeType.KEYWORD);

/**
 * Failed outbound deliveries for support: list them, resend one, recover every failure of an
 * endpoint since a time. A resend starts the message's `deliverWebhook` workflow again under its
 * own id (`outbound-delivery:<message id>`) with the normal retry schedule; the message keeps its
 * id, so the merchant sees the same `webhook-id` and can deduplicate.
 */
export function createDeliveryService(deps: DeliveryServiceDeps) {
  const { messages, endpoints } = deps;

  async function resendMessage(message: MessageDoc, by: string, trigger: 'resend' | 'recover'): Promise<ResendResult> {
    if (!(UNDELIVERED_STATUSES as readonly string[]).includes(message.status)) {
      throw new NotResendable(
        message.status === 'delivered'
          ? `message ${message.messageId} was delivered already`
          : `message ${message.messageId} is ${message.status}: a delivery is under way`,
      );
    }
    const workflowId = deliveryWorkflowId(message.messageId);
    const ref = {
      messageId: message.messageId,
      endpointId: message.endpointId,
      tenantId: message.tenantId,
      stripeEventId: message.stripeEventId,
      stripeEventCreated: message.stripeEventCreated,
      orderKey: message.objectId ?? message.messageId,
      objectId: message.objectId ?? null,
    };
    const searchAttributes: SearchAttributePair[] = [
      { key: TenantId, value: message.tenantId },
      ...(message.objectId ? [{ key: StripeObjectId, value: message.objectId }] : []),
      { key: HookflowOutcome, value: 'pending' },
    ];
    if (!deps.temporal) throw new Error('resending needs a Temporal client');
    try {
      await deps.temporal.workflow.start('deliverWebhook', {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [{ message: ref, plan: deps.plan }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
        typedSearchAttributes: searchAttributes,
      });
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new NotResendable(`message ${message.messageId} is being delivered right now (${workflowId})`);
      }
      throw error;
    }
    await messages.recordResend(message.messageId, { by, trigger, at: new Date() });
    return { messageId: message.messageId, endpointId: message.endpointId, workflowId };
  }

  async function enabledEndpoint(endpointId: string) {
    const endpoint = await endpoints.get(endpointId);
    if (!endpoint.enabled) {
      throw new EndpointDisabled(
        `endpoint ${endpointId} is disabled (${endpoint.disabledReason ?? 'no reason'}): enable it first`,
      );
    }
    return endpoint;
  }

  return {
    async list(query: MessageListQuery): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
      const page = await messages.list(query);
      return { deliveries: page.messages.map(view), nextCursor: page.nextCursor };
    },

    async get(messageId: string): Promise<DeliveryView & { attemptLog: AttemptView[] }> {
      const message = await messages.find(messageId);
      if (!message) throw new DeliveryNotFound(`no delivery ${messageId}`);
      const attempts = await messages.attemptsOf(message);
      return { ...view(message), attemptLog: attempts.map(attemptView) };
    },

    /** The outbound messages of a Stripe event, each with every attempt (the event detail's deliveries). */
    async ofEvent(
      tenantId: string,
      stripeEventId: string,
    ): Promise<Array<DeliveryView & { attemptLog: AttemptView[] }>> {
      const endpointIds = (await endpoints.list(tenantId)).map((endpoint) => endpoint.endpointId);
      const found = await messages.ofEvent(stripeEventId, endpointIds, OUTBOUND_TYPES);
      return Promise.all(
        found.map(async (message) => ({
          ...view(message),
          attemptLog: (await messages.attemptsOf(message)).map(attemptView),
        })),
      );
    },

    /** Resends one failed or skipped message; `by` is who asked (admin session name, `cli:<user>`). */
    async resend(messageId: string, by: string): Promise<ResendResult> {
      const message = await messages.find(messageId);
      if (!message) throw new DeliveryNotFound(`no delivery ${messageId}`);
      await enabledEndpoint(message.endpointId);
      return resendMessage(message, by, 'resend');
    },

    /** Resends every message of the endpoint that failed (or was skipped) at or after `since`. */
    async recover(endpointId: string, since: Date, by: string): Promise<RecoverResult> {
      await enabledEndpoint(endpointId);
      const found = await messages.undeliveredSince(endpointId, since, RECOVER_BATCH_LIMIT + 1);
      const result: RecoverResult = { endpointId, since, resent: [], skipped: [], more: false };
      result.more = found.length > RECOVER_BATCH_LIMIT;
      for (const message of found.slice(0, RECOVER_BATCH_LIMIT)) {
        try {
          result.resent.push((await resendMessage(message, by, 'recover')).messageId);
        } catch (error) {
          if (!(error instanceof NotResendable)) throw error;
          result.skipped.push({ messageId: message.messageId, reason: error.message });
        }
      }
      return result;
    },
  };
}

export type DeliveryService = ReturnType<typeof createDeliveryService>;

function view(message: MessageDoc): DeliveryView {
  return {
    messageId: message.messageId,
    tenantId: message.tenantId,
    endpointId: message.endpointId,
    stripeEventId: message.stripeEventId,
    type: message.type,
    status: message.status,
    attempts: message.attempts,
    lastStatusCode: message.lastStatusCode ?? null,
    lastError: message.lastError ?? null,
    createdAt: message.createdAt,
    updatedAt: message.updatedAt,
    deliveredAt: message.deliveredAt ?? null,
    workflowId: deliveryWorkflowId(message.messageId),
    resends: ((message.resends ?? []) as Array<{ by: string; trigger: string; at: Date }>).map((entry) => ({
      by: entry.by,
      trigger: entry.trigger,
      at: entry.at,
    })),
  };
}

function attemptView(attempt: AttemptDoc): AttemptView {
  return {
    attempt: attempt.attempt,
    statusCode: attempt.statusCode ?? null,
    latencyMs: attempt.latencyMs,
    error: attempt.error ?? null,
    responseBody: attempt.responseBody ?? '',
    at: attempt.at,
  };
}
