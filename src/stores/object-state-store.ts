import type { Model } from 'mongoose';
import type { StateOutcome } from '../contracts';
import { objectChildKey, objectStateKey, type Models } from './event-models';

export interface Watermark {
  created: number;
  eventId: string;
}

export interface ObjectKey {
  tenantId: string;
  resource: string;
  objectId: string;
}

type WriteOutcome = Extract<StateOutcome, 'applied' | 'stale' | 'tie'>;

export interface StateWrite {
  outcome: WriteOutcome;
  /** Fan-out child ids the row listed before this write (to remove the ones no longer listed). */
  previousChildIds: string[];
}

interface Watermarked {
  watermarkCreated: number;
  watermarkEventId: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- shared by several schemas
type AnyModel = Model<any>;

async function readWatermark<Extra extends object = object>(
  model: AnyModel,
  key: Record<string, unknown>,
  extra: string[] = [],
) {
  const projection = Object.fromEntries(['watermarkCreated', 'watermarkEventId', ...extra].map((name) => [name, 1]));
  return model.findOne(key).select(projection).lean<Watermarked & Extra>();
}

/** The compare-and-write step, given what the row held (read once by the caller). */
async function writeOver(
  model: AnyModel,
  key: Record<string, unknown>,
  mark: Watermark,
  doc: Record<string, unknown>,
  previous: Watermarked | null,
): Promise<WriteOutcome> {
  const fields = { ...doc, watermarkCreated: mark.created, watermarkEventId: mark.eventId };
  if (previous === null) {
    await model.create({ ...key, ...fields });
    return 'applied';
  }
  if (previous.watermarkCreated > mark.created) return 'stale';
  // Same second, other event: Stripe gives no order within a second, so the later arrival wins
  // and the row is flagged rather than the change silently dropped. The same event again
  // (activity retry, re-run) is an idempotent rewrite.
  const tie = previous.watermarkCreated === mark.created && previous.watermarkEventId !== mark.eventId;
  await model.updateOne(key, { $set: tie ? { ...fields, sameSecondTie: true } : fields });
  return tie ? 'tie' : 'applied';
}

/**
 * The watermark guard for any record keyed by Stripe ids (object state, cases, sessions, …): writes
 * `doc` at `key` unless the stored row carries a newer watermark. Callers hold the row's lock (see
 * object-lock.ts): compare-then-write is only safe serialised.
 */
export async function writeIfNotOlder(
  model: AnyModel,
  key: Record<string, unknown>,
  mark: Watermark,
  doc: Record<string, unknown>,
): Promise<WriteOutcome> {
  return writeOver(model, key, mark, doc, await readWatermark(model, key));
}

/** An object's state row, addressed by `_id` (see models.ts on FerretDB), with its previous children. */
export async function writeStateIfNotOlder(
  models: Models,
  key: ObjectKey,
  mark: Watermark,
  doc: Record<string, unknown> & { childIds: string[] },
): Promise<StateWrite> {
  const rowKey = { _id: objectStateKey(key.tenantId, key.resource, key.objectId) };
  const previous = await readWatermark<{ childIds?: string[] }>(models.ObjectState, rowKey, ['childIds']);
  const previousChildIds = previous?.childIds ?? [];
  // Until the children are replaced, the row lists old and new ids together: if the worker dies in
  // between, the retry still knows every child that may need removing. settleChildIds ends it.
  const pendingChildIds = [...new Set([...previousChildIds, ...doc.childIds])];
  const outcome = await writeOver(
    models.ObjectState,
    rowKey,
    mark,
    { ...key, sameSecondTie: false, ...doc, childIds: pendingChildIds },
    previous,
  );
  return { outcome, previousChildIds };
}

/** After the children were replaced, the row lists exactly the current ones. */
export async function settleChildIds(models: Models, key: ObjectKey, childIds: string[]): Promise<void> {
  await models.ObjectState.updateOne(
    { _id: objectStateKey(key.tenantId, key.resource, key.objectId) },
    { $set: { childIds } },
  );
}

export interface ChildRecord {
  childId: string;
  state: string;
}

/**
 * Replaces the children of one nested list of a parent (`invoice.lines`, …) with `children`:
 * upserts each, then removes the ones the previous state listed and this one no longer does.
 * Runs under the parent's lock, after the parent's own write was accepted. Every write is by
 * `_id` (see models.ts on FerretDB).
 */
export async function replaceChildren(
  models: Models,
  parent: { tenantId: string; parentResource: string; parentId: string; list: string },
  mark: Watermark,
  children: ChildRecord[],
  previousChildIds: string[],
): Promise<void> {
  const { tenantId, parentId, list } = parent;
  for (const [position, child] of children.entries()) {
    await models.ObjectChild.updateOne(
      { _id: objectChildKey(tenantId, parentId, list, child.childId) },
      {
        $set: {
          tenantId,
          parentResource: parent.parentResource,
          parentId,
          list,
          childId: child.childId,
          position,
          state: child.state,
          watermarkCreated: mark.created,
          watermarkEventId: mark.eventId,
        },
      },
      { upsert: true },
    );
  }
  const kept = new Set(children.map((child) => child.childId));
  for (const childId of previousChildIds.filter((id) => !kept.has(id))) {
    await models.ObjectChild.deleteOne({ _id: objectChildKey(tenantId, parentId, list, childId) });
  }
}
