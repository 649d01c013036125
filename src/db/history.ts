import type { Model } from 'mongoose';
import type { HistoryEntry } from './business-models';

/**
 * Appends `entry` to the record's `history` unless that event is already there: activities run at
 * least once, and a retry or re-run must not add a second entry. One conditional update, so it is
 * safe without transactions (FerretDB has none).
 */
export async function appendHistoryOnce(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- shared by cases and sessions
  key: Record<string, unknown>,
  entry: HistoryEntry,
): Promise<boolean> {
  const pushed = await model.updateOne(
    { ...key, 'history.eventId': { $ne: entry.eventId } },
    { $push: { history: entry } },
  );
  return pushed.modifiedCount > 0;
}
