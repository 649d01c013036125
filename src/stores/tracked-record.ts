import type { Model } from 'mongoose';
import { businessKey, type HistoryEntry } from './business-schemas';
import { withLock, type LockModel } from './locks';
import { compareWatermark, watermarkedFields, type Watermarked, type WriteOutcome } from './watermark';

/** The Stripe event a business record write comes from: its watermark and history entry. */
export interface RecordEvent {
  id: string;
  type: string;
  /** `event.created`, Unix seconds. */
  created: number;
  livemode: boolean;
  /** Stripe Connect: the connected account the event belongs to; null or absent for the platform's own. */
  account?: string | null;
}

export interface TrackedRecordWrite {
  /** `case`, `payment-session`: names the lock. */
  kind: string;
  tenantId: string;
  /** The record's natural id (case id, session id); with the tenant it makes `_id`. */
  id: string;
  event: RecordEvent;
  fields: Record<string, unknown>;
  /** The Stripe object's status, kept in the history entry. */
  stripeStatus: string | null;
}

/**
 * Store internal shared by the case and payment-session stores: a business record that follows the
 * newest Stripe event and remembers every event that touched it.
 *
 * Under the record's lock (FerretDB applies updates without isolation), one read of the watermark and
 * the history, then at most one write: the fields when the event is not older than the row
 * (watermark.ts), and the history entry unless that event is already there — activities run at least
 * once, and a retry or re-run must not add a second entry. The history check is done on the row read
 * rather than as a `'history.eventId': { $ne }` filter: FerretDB 1.24 matched that filter even when
 * the entry existed (measured in test/business-activities.test.ts).
 */
export async function writeTrackedRecord(
  model: Model<any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- shared by cases and sessions
  locks: LockModel,
  input: TrackedRecordWrite,
): Promise<WriteOutcome> {
  const { event, tenantId } = input;
  const key = { _id: businessKey(tenantId, input.id) };
  const mark = { created: event.created, eventId: event.id };
  const entry: HistoryEntry = {
    eventId: event.id,
    type: event.type,
    created: event.created,
    stripeStatus: input.stripeStatus,
  };
  const doc = {
    tenantId,
    ...input.fields,
    account: event.account ?? null,
    livemode: event.livemode,
    lastEventType: event.type,
    updatedAt: new Date(),
  };
  return withLock(locks, `${input.kind}:${tenantId}:${input.id}`, async () => {
    const previous = await model
      .findOne(key)
      .select({ watermarkCreated: 1, watermarkEventId: 1, history: 1 })
      .lean<Watermarked & { history?: HistoryEntry[] }>();
    const outcome = compareWatermark(previous, mark);
    if (previous === null) {
      await model.create({ ...key, ...watermarkedFields(doc, mark, outcome), history: [entry] });
      return outcome;
    }
    const update: Record<string, unknown> = {};
    if (outcome !== 'stale') update.$set = watermarkedFields(doc, mark, outcome);
    if (!previous.history?.some((existing) => existing.eventId === event.id)) update.$push = { history: entry };
    if (Object.keys(update).length > 0) await model.updateOne(key, update);
    return outcome;
  });
}
