import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type SearchAttributePair } from '@temporalio/common';
import type { processStripeEvent } from '../../workflows';
import {
  HookflowOutcome,
  StripeAccountId,
  StripeCustomerId,
  StripeEventType,
  StripeLivemode,
  StripeObjectId,
  TenantId,
} from '../../workflows/search-attributes';
import { eventWorkflowId, type EventRef } from '../contracts';
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
): Promise<{ workflowId: string; alreadyCompleted: boolean; runId: string | null }> {
  const { tenantId, summary } = input;
  const workflowId = eventWorkflowId(tenantId, summary.eventId);
  try {
    const handle = await client.workflow.start<typeof processStripeEvent>('processStripeEvent', {
      taskQueue,
      workflowId,
      args: [eventRefOf(tenantId, summary)],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: searchAttributesOf(tenantId, summary),
      memo: memoOf(tenantId, summary),
    });
    return { workflowId, alreadyCompleted: false, runId: handle.firstExecutionRunId };
  } catch (error) {
    // A closed, successful run with this id exists: the event was processed already.
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      return { workflowId, alreadyCompleted: true, runId: null };
    throw error;
  }
}

/**
 * A re-run (support/reruns.ts): a failed event under its own id — the same start as the first
 * one, so the same search attributes and memo — or a forced re-run of a processed event under its
 * derived id, which must be new (REJECT_DUPLICATE / FAIL: a clash means the id scheme was reused).
 */
export async function startEventRerun(
  client: Client,
  taskQueue: string,
  input: StartEventWorkflowInput & { workflowId: string; forced: boolean },
): Promise<{ alreadyCompleted: boolean; runId: string }> {
  if (!input.forced) {
    const started = await startEventWorkflow(client, taskQueue, input);
    return { alreadyCompleted: started.alreadyCompleted, runId: started.runId ?? '' };
  }
  const handle = await client.workflow.start<typeof processStripeEvent>('processStripeEvent', {
    taskQueue,
    workflowId: input.workflowId,
    args: [eventRefOf(input.tenantId, input.summary)],
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    typedSearchAttributes: searchAttributesOf(input.tenantId, input.summary),
    memo: memoOf(input.tenantId, input.summary),
  });
  return { alreadyCompleted: false, runId: handle.firstExecutionRunId };
}

/** The workflow input: the event by reference, flagged when it is a thin notification to fetch first. */
function eventRefOf(tenantId: string, summary: EventSummary): EventRef {
  return { tenantId, eventId: summary.eventId, ...(summary.thin ? { thin: true } : {}) };
}

/** Design "Temporal UI": a memo summary for operators — ids and type only, never personal data. */
function memoOf(tenantId: string, summary: EventSummary): Record<string, string | null> {
  return { type: summary.type, objectId: summary.objectId, customerId: summary.customerId, tenantId };
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
  if (summary.account) pairs.push({ key: StripeAccountId, value: summary.account });
  return pairs;
}
