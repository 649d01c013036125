import type { Model } from 'mongoose';
import type { HistoryEntry } from './business-models';

/**
 * Appends `entry` to the record's `history` unless that event is already there: activities run at
 * least once, and a retry or re-run must not add a second entry. Call it under the record's lock
 * (object-lock.ts). The check is done here rather than as a `'history.eventId': { $ne }` filter:
 * FerretDB 1.24 matched that filter even when the entry existed (measured in
 * test/business-activities.test.ts), and it applies updates without isolation anyway.
 */
export async function appendHistoryOnce(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- shared by cases and sessions
  key: Record<string, unknown>,
  entry: HistoryEntry,
): Promise<boolean> {
  const current = await model.findOne(key).select({ history: 1 }).lean<{ history?: HistoryEntry[] }>();
  if (!current || current.history?.some((existing) => existing.eventId === entry.eventId)) return false;
  await model.updateOne(key, { $push: { history: entry } });
  return true;
}
