import type { Model } from 'mongoose';

/**
 * The "an older write never wins" rule for every record keyed by Stripe ids (object state, cases,
 * sessions, Clerk status), as stripe/sync-engine's `upsertManyWithTimestampProtection` does it:
 * each row carries the (event.created, event id) of the newest change applied.
 */
export interface Watermark {
  created: number;
  eventId: string;
}

export type WriteOutcome = 'applied' | 'stale' | 'tie';

export interface Watermarked {
  watermarkCreated: number;
  watermarkEventId: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- shared by several schemas
type AnyModel = Model<any>;

export async function readWatermark<Extra extends object = object>(
  model: AnyModel,
  key: Record<string, unknown>,
  extra: string[] = [],
) {
  const projection = Object.fromEntries(['watermarkCreated', 'watermarkEventId', ...extra].map((name) => [name, 1]));
  return model.findOne(key).select(projection).lean<Watermarked & Extra>();
}

/** The compare-and-write step, given what the row held (read once by the caller). */
export async function writeOver(
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
