import type { Model } from 'mongoose';
import type { StateOutcome } from '../../activities/types';
import { isDuplicateKeyError, type Models } from './models';

export interface Watermark {
  created: number;
  eventId: string;
}

type WriteResult = Extract<StateOutcome, 'applied' | 'stale' | 'tie'>;

/**
 * Writes `doc` at `key` unless the stored row carries a newer watermark. FerretDB has no
 * transactions, so this is a compare-and-set on the row itself: a conditional update for the
 * common case (newer change), else read the stored watermark and decide, retrying if another
 * writer changed the row in between.
 */
export async function writeIfNotOlder(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- shared by two schemas
  key: Record<string, unknown>,
  mark: Watermark,
  doc: Record<string, unknown>,
): Promise<WriteResult> {
  const fields = { ...doc, watermarkCreated: mark.created, watermarkEventId: mark.eventId };
  for (let attempt = 0; attempt < 5; attempt++) {
    const newer = await model.updateOne({ ...key, watermarkCreated: { $lt: mark.created } }, { $set: fields });
    if (newer.matchedCount > 0) return 'applied';
    const current = await model.findOne(key).select({ watermarkCreated: 1, watermarkEventId: 1 }).lean<Watermarked>();
    if (current === null) {
      try {
        await model.create({ ...key, ...fields });
        return 'applied';
      } catch (error) {
        if (isDuplicateKeyError(error)) continue;
        throw error;
      }
    }
    if (current.watermarkCreated > mark.created) return 'stale';
    if (current.watermarkCreated < mark.created) continue; // rewritten meanwhile by an older event
    // Same second. The same event again (activity retry, re-run) is an idempotent rewrite. Another
    // event: Stripe gives no order within a second, so the later arrival wins and the row is
    // flagged rather than the change silently dropped.
    const tie = current.watermarkEventId !== mark.eventId;
    const swapped = await model.updateOne(
      { ...key, watermarkCreated: current.watermarkCreated, watermarkEventId: current.watermarkEventId },
      { $set: tie ? { ...fields, sameSecondTie: true } : fields },
    );
    if (swapped.matchedCount > 0) return tie ? 'tie' : 'applied';
  }
  throw new Error(`object state at ${JSON.stringify(key)} kept changing under concurrent writers; retry`);
}

interface Watermarked {
  watermarkCreated: number;
  watermarkEventId: string;
}

export interface ChildRecord {
  childId: string;
  state: string;
}

/**
 * Replaces the children of one nested list of a parent (`invoice.lines`, …) with `children`:
 * upserts each, then removes the ones the newer parent no longer lists.
 */
export async function replaceChildren(
  models: Models,
  parent: { tenantId: string; parentResource: string; parentId: string; list: string },
  mark: Watermark,
  children: ChildRecord[],
): Promise<void> {
  const { tenantId, parentId, list } = parent;
  for (const [position, child] of children.entries()) {
    await writeIfNotOlder(models.ObjectChild, { tenantId, parentId, list, childId: child.childId }, mark, {
      parentResource: parent.parentResource,
      position,
      state: child.state,
    });
  }
  await models.ObjectChild.deleteMany({
    tenantId,
    parentId,
    list,
    childId: { $nin: children.map((child) => child.childId) },
    watermarkCreated: { $lte: mark.created },
  });
}
