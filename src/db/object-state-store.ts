import type { Model } from 'mongoose';
import type { StateOutcome } from '../../activities/types';
import type { Models } from './models';

export interface Watermark {
  created: number;
  eventId: string;
}

type WriteResult = Extract<StateOutcome, 'applied' | 'stale' | 'tie'>;

/**
 * Writes `doc` at `key` unless the stored row carries a newer watermark.
 * Callers hold the object's lock (see object-lock.ts): compare-then-write is only safe serialised.
 */
export async function writeIfNotOlder(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- shared by two schemas
  key: Record<string, unknown>,
  mark: Watermark,
  doc: Record<string, unknown>,
): Promise<WriteResult> {
  const fields = { ...doc, watermarkCreated: mark.created, watermarkEventId: mark.eventId };
  const current = await model
    .findOne(key)
    .select({ watermarkCreated: 1, watermarkEventId: 1 })
    .lean<{ watermarkCreated: number; watermarkEventId: string }>();
  if (current === null) {
    await model.create({ ...key, ...fields });
    return 'applied';
  }
  if (current.watermarkCreated > mark.created) return 'stale';
  // Same second, other event: Stripe gives no order within a second, so the later arrival wins
  // and the row is flagged rather than the change silently dropped. The same event again
  // (activity retry, re-run) is an idempotent rewrite.
  const tie = current.watermarkCreated === mark.created && current.watermarkEventId !== mark.eventId;
  await model.updateOne(key, { $set: tie ? { ...fields, sameSecondTie: true } : { ...fields, sameSecondTie: false } });
  return tie ? 'tie' : 'applied';
}

export interface ChildRecord {
  childId: string;
  state: string;
}

/**
 * Replaces the children of one nested list of a parent (`invoice.lines`, …) with `children`:
 * upserts each, then removes the ones the newer parent no longer lists. Runs under the parent's
 * lock, after the parent's own write was accepted.
 */
export async function replaceChildren(
  models: Models,
  parent: { tenantId: string; parentResource: string; parentId: string; list: string },
  mark: Watermark,
  children: ChildRecord[],
): Promise<void> {
  const { tenantId, parentId, list } = parent;
  for (const [position, child] of children.entries()) {
    await models.ObjectChild.updateOne(
      { tenantId, parentId, list, childId: child.childId },
      {
        $set: {
          parentResource: parent.parentResource,
          position,
          state: child.state,
          watermarkCreated: mark.created,
          watermarkEventId: mark.eventId,
        },
      },
      { upsert: true },
    );
  }
  await models.ObjectChild.deleteMany({
    tenantId,
    parentId,
    list,
    childId: { $nin: children.map((child) => child.childId) },
  });
}
