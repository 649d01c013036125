import type { Model } from 'mongoose';
import { businessKey, type HistoryEntry } from '../db/business-models';
import { withLock, type LockModel } from './locks';
import { writeIfNotOlder } from './watermark';

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

export interface TrackedRecordWrite {
  model: Model<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- shared by cases and sessions
  locks: LockModel;
  /** `case`, `payment-session`: names the lock. */
  kind: string;
  tenantId: string;
  /** The record's natural id (case id, session id); with the tenant it makes `_id`. */
  id: string;
  event: { id: string; type: string; created: number; livemode: boolean };
  fields: Record<string, unknown>;
  stripeStatus: string | null;
}

/**
 * A business record that follows the newest Stripe event and remembers every event that touched
 * it: under the record's lock, the watermark-guarded write, then the history entry (once per event).
 */
export async function writeTrackedRecord(input: TrackedRecordWrite) {
  const { model, event, tenantId } = input;
  const key = { _id: businessKey(tenantId, input.id) };
  return withLock(input.locks, `${input.kind}:${tenantId}:${input.id}`, async () => {
    const write = await writeIfNotOlder(
      model,
      key,
      { created: event.created, eventId: event.id },
      { tenantId, ...input.fields, livemode: event.livemode, lastEventType: event.type, updatedAt: new Date() },
    );
    await appendHistoryOnce(model, key, {
      eventId: event.id,
      type: event.type,
      created: event.created,
      stripeStatus: input.stripeStatus,
    });
    return write;
  });
}
