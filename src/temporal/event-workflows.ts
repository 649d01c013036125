import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { processStripeEvent } from '../../workflows';
import {
  HookflowOutcome,
  StripeCustomerId,
  StripeEventType,
  StripeLivemode,
  StripeObjectId,
  TenantId,
} from '../../workflows/search-attributes';
import { eventWorkflowId } from '../contracts';
import type { EventSummary } from '../stripe/event-summary';

export interface StartEventWorkflowInput {
  tenantId: string;
  summary: EventSummary;
}

/**
 * Starts `processStripeEvent` for an event, or finds the run already there.
 * ALLOW_DUPLICATE_FAILED_ONLY: a completed event never runs again, a failed one may be re-run.
 * USE_EXISTING: concurrent redeliveries attach to the running execution instead of failing.
 */
export async function startEventWorkflow(
  client: Client,
  taskQueue: string,
  input: StartEventWorkflowInput,
): Promise<{ workflowId: string; alreadyCompleted: boolean }> {
  const { tenantId, summary } = input;
  const workflowId = eventWorkflowId(tenantId, summary.eventId);
  try {
    await client.workflow.start<typeof processStripeEvent>('processStripeEvent', {
      taskQueue,
      workflowId,
      args: [{ tenantId, eventId: summary.eventId }],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: searchAttributesOf(tenantId, summary),
    });
    return { workflowId, alreadyCompleted: false };
  } catch (error) {
    // A closed, successful run with this id exists: the event was processed already.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, alreadyCompleted: true };
    throw error;
  }
}

function searchAttributesOf(tenantId: string, summary: EventSummary): SearchAttributePair[] {
  const pairs: SearchAttributePair[] = [
    { key: StripeEventType, value: summary.type },
    { key: TenantId, value: tenantId },
    { key: StripeLivemode, value: summary.livemode },
    { key: HookflowOutcome, value: 'pending' },
  ];
  if (summary.objectId) pairs.push({ key: StripeObjectId, value: summary.objectId });
  if (summary.customerId) pairs.push({ key: StripeCustomerId, value: summary.customerId });
  return pairs;
}
