import type { EventSummary } from '../stripe/event-summary';
import { objectChildKey, objectStateKey, type Models } from './event-models';
import { withLock } from './locks';
import { readWatermark, writeOver, type Watermark, type WriteOutcome } from './watermark';

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
  /** Where the object came from: an event (default), a snapshot backfill page or an API re-fetch. */
  source?: ObjectSource;
}

export type ObjectSource = 'webhook' | 'snapshot' | 'refetch';

export interface ApplyStateResult {
  outcome: WriteOutcome;
  children: number;
}

interface ObjectKey {
  tenantId: string;
  resource: string;
  objectId: string;
}

/**
 * The object-state table (design: "Object state"): the latest state of each Stripe object per
 * tenant, guarded by a watermark so an older event never overwrites newer state, with the nested
 * lists fanned out into child rows. Concurrent events for one object are serialised by the object's
 * lock (FerretDB applies updates without isolation); every read and write is by `_id`.
 */
export class ObjectStateStore {
  constructor(private readonly models: Models) {}

  /**
   * The latest stored state of one object for the support view: the object (parsed) and what the
   * row says about it (watermark, source, deleted, tie); null when none is stored. One `_id` read.
   */
  async get(tenantId: string, resource: string, objectId: string): Promise<Record<string, unknown> | null> {
    const doc = await this.models.ObjectState.findOne({ _id: objectStateKey(tenantId, resource, objectId) }).lean();
    if (!doc) return null;
    const { _id, state, previousAttributes, ...meta } = doc; // eslint-disable-line @typescript-eslint/no-unused-vars
    return {
      ...meta,
      state: JSON.parse(state) as unknown,
      previousAttributes: previousAttributes ? (JSON.parse(previousAttributes) as unknown) : null,
    };
  }

  /** Upserts the event's object and, when this event is the newest, its child lists. */
  async apply(input: ApplyStateInput): Promise<ApplyStateResult> {
    const { tenantId, summary } = input;
    const lockKey = `object-state:${tenantId}:${summary.resource}:${summary.objectId}`;
    return withLock(this.models.Lock, lockKey, () => this.applyLocked(input));
  }

  private async applyLocked(input: ApplyStateInput): Promise<ApplyStateResult> {
    const { tenantId, summary, object } = input;
    const key: ObjectKey = { tenantId, resource: summary.resource, objectId: summary.objectId! };
    const mark: Watermark = { created: summary.created, eventId: summary.eventId };
    const listName = summary.objectType ? FAN_OUT_LISTS[summary.objectType] : undefined;
    const children = listName ? listItems(object[listName]) : null;
    // A list Stripe cut short (`has_more: true`) that the caller could not read in full: it says
    // nothing about the children it does not show, so they are kept rather than removed.
    const complete = children === null || !hasMore(object[listName!]);
    const childIds = children?.map((item) => item.id) ?? [];
    const rowKey = { _id: objectStateKey(key.tenantId, key.resource, key.objectId) };
    const previous = await readWatermark<{ childIds?: string[] }>(this.models.ObjectState, rowKey, ['childIds']);
    const previousChildIds = previous?.childIds ?? [];
    // Until the children are replaced, the row lists old and new ids together: if the worker dies in
    // between, the retry still knows every child that may need removing. The last step settles it.
    // An incomplete list stays at the union: every child stored for the parent remains listed.
    const pendingChildIds = [...new Set([...previousChildIds, ...childIds])];
    const outcome = await writeOver(
      this.models.ObjectState,
      rowKey,
      mark,
      {
        ...key,
        sameSecondTie: false,
        objectType: summary.objectType ?? summary.resource,
        customerId: summary.customerId,
        account: summary.account ?? null,
        state: JSON.stringify(object),
        deleted: summary.type.endsWith('.deleted') || object.deleted === true,
        lastEventType: summary.type,
        apiVersion: summary.apiVersion,
        livemode: summary.livemode,
        changeType: changeTypeOf(summary.type),
        previousAttributes: input.previousAttributes ? JSON.stringify(input.previousAttributes) : null,
        source: input.source ?? 'webhook',
        childIds: pendingChildIds,
        childrenComplete: children === null ? null : complete,
        updatedAt: new Date(),
      },
      previous,
    );
    if (outcome === 'stale' || !listName || children === null) return { outcome, children: 0 };
    await this.replaceChildren(key, listName, mark, children, complete ? previousChildIds : []);
    // Settle the row to exactly the current children (skipped when it lists them already).
    if (complete && pendingChildIds.join('\n') !== childIds.join('\n')) {
      await this.models.ObjectState.updateOne(rowKey, { $set: { childIds } });
    }
    return { outcome, children: children.length };
  }

  /**
   * Replaces the children of one nested list of a parent (`invoice.lines`, …): upserts each, then
   * removes the ones the previous state listed and this one no longer does (none are passed for an
   * incomplete list: only the children shown are upserted).
   */
  private async replaceChildren(
    parent: ObjectKey,
    list: string,
    mark: Watermark,
    children: Array<Record<string, unknown> & { id: string }>,
    previousChildIds: string[],
  ): Promise<void> {
    const { tenantId, objectId: parentId } = parent;
    for (const [position, child] of children.entries()) {
      await this.models.ObjectChild.updateOne(
        { _id: objectChildKey(tenantId, parentId, list, child.id) },
        {
          $set: {
            tenantId,
            parentResource: parent.resource,
            parentId,
            list,
            childId: child.id,
            position,
            state: JSON.stringify(child),
            watermarkCreated: mark.created,
            watermarkEventId: mark.eventId,
          },
        },
        { upsert: true },
      );
    }
    const kept = new Set(children.map((child) => child.id));
    for (const childId of previousChildIds.filter((id) => !kept.has(id))) {
      await this.models.ObjectChild.deleteOne({ _id: objectChildKey(tenantId, parentId, list, childId) });
    }
  }
}

/** `invoice.payment_failed` → `payment_failed`; the last segment names the change. */
function changeTypeOf(eventType: string): string {
  return eventType.slice(eventType.lastIndexOf('.') + 1);
}

/** Stripe's `has_more` on an embedded list: more entries exist than the object carries. */
function hasMore(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as { has_more?: unknown }).has_more === true;
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
