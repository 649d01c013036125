import type { Models } from '../src/stores/event-models';
import { withLock } from '../src/stores/locks';
import {
  replaceChildren,
  settleChildIds,
  writeStateIfNotOlder,
  type Watermark,
} from '../src/stores/object-state-store';
import type { EventSummary } from '../src/stripe/event-summary';
import type { StateOutcome } from './types';

/** Nested lists that fan out into child records, by Stripe object type (design: "Fan-out"). */
export const FAN_OUT_LISTS: Readonly<Record<string, string>> = {
  invoice: 'lines',
  charge: 'refunds',
  subscription: 'items',
};

export interface ApplyStateInput {
  tenantId: string;
  summary: EventSummary;
  object: Record<string, unknown>;
  previousAttributes: Record<string, unknown> | undefined;
}

export interface ApplyStateResult {
  outcome: Extract<StateOutcome, 'applied' | 'stale' | 'tie'>;
  children: number;
}

/**
 * Upserts the latest state of the event's object and, when this event is the newest, its child
 * lists — all under the object's lock, so concurrent events for one object are serialised.
 */
export async function applyObjectState(models: Models, input: ApplyStateInput): Promise<ApplyStateResult> {
  const { tenantId, summary } = input;
  const lockKey = `object-state:${tenantId}:${summary.resource}:${summary.objectId}`;
  return withLock(models.Lock, lockKey, () => applyLocked(models, input));
}

async function applyLocked(models: Models, input: ApplyStateInput): Promise<ApplyStateResult> {
  const { tenantId, summary, object } = input;
  const mark: Watermark = { created: summary.created, eventId: summary.eventId };
  const listName = summary.objectType ? FAN_OUT_LISTS[summary.objectType] : undefined;
  const children = listName ? listItems(object[listName]) : null;
  const childIds = children?.map((item) => item.id) ?? [];
  const write = await writeStateIfNotOlder(
    models,
    { tenantId, resource: summary.resource, objectId: summary.objectId! },
    mark,
    {
      objectType: summary.objectType ?? summary.resource,
      customerId: summary.customerId,
      state: JSON.stringify(object),
      deleted: summary.type.endsWith('.deleted') || object.deleted === true,
      lastEventType: summary.type,
      apiVersion: summary.apiVersion,
      livemode: summary.livemode,
      changeType: changeTypeOf(summary.type),
      previousAttributes: input.previousAttributes ? JSON.stringify(input.previousAttributes) : null,
      source: 'webhook',
      childIds,
      updatedAt: new Date(),
    },
  );
  if (write.outcome === 'stale' || !listName || children === null) return { outcome: write.outcome, children: 0 };
  await replaceChildren(
    models,
    { tenantId, parentResource: summary.resource, parentId: summary.objectId!, list: listName },
    mark,
    children.map((item) => ({ childId: item.id, state: JSON.stringify(item) })),
    write.previousChildIds,
  );
  await settleChildIds(models, { tenantId, resource: summary.resource, objectId: summary.objectId! }, childIds);
  return { outcome: write.outcome, children: children.length };
}

/** `invoice.payment_failed` → `payment_failed`; the last segment names the change. */
function changeTypeOf(eventType: string): string {
  return eventType.slice(eventType.lastIndexOf('.') + 1);
}

/** Items of an embedded Stripe list object, or null when the field is absent or not a list. */
function listItems(value: unknown): Array<Record<string, unknown> & { id: string }> | null {
  if (!value || typeof value !== 'object') return null;
  const data = (value as { data?: unknown }).data;
  if (!Array.isArray(data)) return null;
  return data.filter(
    (item): item is Record<string, unknown> & { id: string } =>
      item !== null && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string',
  );
}
