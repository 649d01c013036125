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

/**
 * What a write carrying `mark` does to a row that holds `previous` (null: no row yet). Same second,
 * other event → `tie`: Stripe gives no order within a second, so the later arrival wins and the row
 * is flagged rather than the change silently dropped. The same event again (activity retry, re-run)
 * is an idempotent rewrite.
 */
export function compareWatermark(previous: Watermarked | null, mark: Watermark): WriteOutcome {
  if (previous === null) return 'applied';
  if (previous.watermarkCreated > mark.created) return 'stale';
  return previous.watermarkCreated === mark.created && previous.watermarkEventId !== mark.eventId ? 'tie' : 'applied';
}

/** The fields an applied (or tied) write sets: the document plus its watermark (and the tie flag). */
export function watermarkedFields(doc: Record<string, unknown>, mark: Watermark, outcome: WriteOutcome) {
  const fields = { ...doc, watermarkCreated: mark.created, watermarkEventId: mark.eventId };
  return outcome === 'tie' ? { ...fields, sameSecondTie: true } : fields;
}

/** The compare-and-write step, given what the row held (read once by the caller). */
export async function writeOver(
  model: AnyModel,
  key: Record<string, unknown>,
  mark: Watermark,
  doc: Record<string, unknown>,
  previous: Watermarked | null,
): Promise<WriteOutcome> {
  const outcome = compareWatermark(previous, mark);
  if (outcome === 'stale') return outcome;
  const fields = watermarkedFields(doc, mark, outcome);
  if (previous === null) await model.create({ ...key, ...fields });
  else await model.updateOne(key, { $set: fields });
  return outcome;
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
