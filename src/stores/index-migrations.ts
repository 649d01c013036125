import type { Collection, Schema } from 'mongoose';
import { LIST_KEY_SEPARATOR, PUSHDOWN_INDEX_SUFFIX } from './event-models';

/** What these helpers use of a mongoose model. */
interface IndexedModel {
  schema: Schema;
  collection: Collection;
}

/**
 * Index names changed when the support-list indexes became `…__pushdown` indexes (event-models.ts).
 * MongoDB and FerretDB refuse to create an index whose key already exists under another name, so a
 * database built before keeps its old auto-named index and `createIndexes` fails. This drops an
 * existing index whose key equals a declared, explicitly named one under a different name, so that
 * `createIndexes` can build it under the declared name. Before dropping an old support-list index,
 * list keys written with the old ` ` separator are rewritten (once per database: the old index is
 * gone afterwards), because the FerretDB pushdown compares them as JSON text (see listKey()).
 */
export async function replaceRenamedIndexes(model: IndexedModel): Promise<void> {
  const existing = await existingIndexes(model);
  for (const [key, options] of model.schema.indexes()) {
    const name = (options as { name?: unknown }).name;
    if (typeof name !== 'string') continue;
    const old = existing.find((index) => index.name !== name && sameKey(index.key, key));
    if (!old) continue;
    if (name.endsWith(PUSHDOWN_INDEX_SUFFIX) && 'listKey' in key) await rewriteSpaceListKeys(model);
    await model.collection.dropIndex(old.name).catch((error: unknown) => {
      // Another process starting at the same time dropped it first.
      if ((error as { code?: number }).code !== 27) throw error;
    });
  }
}

async function existingIndexes(model: IndexedModel): Promise<Array<{ name: string; key: Record<string, unknown> }>> {
  try {
    return (await model.collection.indexes()) as Array<{ name: string; key: Record<string, unknown> }>;
  } catch (error) {
    if ((error as { code?: number }).code === 26) return []; // NamespaceNotFound: no collection yet
    throw error;
  }
}

function sameKey(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const entries = (key: Record<string, unknown>) =>
    Object.entries(key).map(([field, dir]) => `${field}:${Number(dir)}`);
  return entries(a).join(',') === entries(b).join(',');
}

/** `<ISO> <id>` → `<ISO>|<id>` (a full scan: runs only while the pre-`__pushdown` index exists). */
async function rewriteSpaceListKeys(model: IndexedModel): Promise<void> {
  const cursor = model.collection.find({ listKey: { $regex: '^[^ ]+ ' } }, { projection: { listKey: 1 } });
  let batch: Array<{ updateOne: { filter: { _id: unknown }; update: { $set: { listKey: string } } } }> = [];
  const flush = async () => {
    if (batch.length > 0) await model.collection.bulkWrite(batch as never[], { ordered: false });
    batch = [];
  };
  for await (const doc of cursor) {
    const listKey = String(doc.listKey).replace(' ', LIST_KEY_SEPARATOR);
    batch.push({ updateOne: { filter: { _id: doc._id }, update: { $set: { listKey } } } });
    if (batch.length >= 500) await flush();
  }
  await flush();
}
