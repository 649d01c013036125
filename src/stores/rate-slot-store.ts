import { Schema, type Connection } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key';

/**
 * Fleet-wide request pacing for a third-party API (the Stripe list calls of backfills and catch-up).
 *
 * Time is cut into slots of `1 / perSecond` seconds; a request may be sent only in a slot it holds,
 * and holding one is a plain insert of the slot's `_id` (`<scope>@<rate>:<slot number>`): the unique
 * `_id` lets exactly one caller in the whole fleet win each slot (E11000 for the others, who take
 * the next one), on MongoDB and on FerretDB alike — no update, no lock, no isolation needed. Under a
 * backlog every slot is used, so the achieved rate is the configured one; without one, an unclaimed
 * slot simply passes.
 *
 * Why not Temporal's task-queue rate limit (`maxTaskQueueActivitiesPerSecond`), which this replaces
 * for the Stripe queues: the matching service divides it equally across the task queue's partitions
 * (4 by default), each with a burst of one, and tasks land on partitions unevenly — a partition
 * without a pending task wastes its share while another's task waits. Measured on the dev server with
 * no work in the activity: 80-82 % of the cap with 4 partitions (5 or 20 chains), 102 % with one
 * (bench/README.md, "Backfill probe").
 *
 * A slot's document is deleted once its time has passed (no caller starts below the current slot);
 * one held by a process that died stays behind as a harmless past slot.
 */
export interface RateSlotStore {
  /** Holds the earliest free slot at or after now: send at `at` (Unix ms), then release it. */
  claim(scope: string, perSecond: number): Promise<RateSlot>;
}

export interface RateSlot {
  /** Unix ms: the start of the slot, when the request may be sent. */
  at: number;
  release(): Promise<void>;
}

const rateSlotSchema = new Schema(
  {
    /** `<scope>@<rate>:<slot number>`; slot n starts at n / rate seconds after the epoch. */
    _id: { type: String, required: true },
    scope: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'rate_slots', versionKey: false },
);

export function createRateSlotStore(connection: Connection): RateSlotStore {
  const RateSlot = connection.models.RateSlot ?? connection.model('RateSlot', rateSlotSchema);
  // Per scope, the lowest slot this process has not seen held (its own claims and clashes): a
  // backlog of callers then walks past the held slots once, not once per request.
  const known = new Map<string, number>();

  return {
    async claim(scope, perSecond) {
      const interval = 1000 / perSecond;
      const key = `${scope}@${perSecond}`;
      // The first slot starting after now: a slot whose time has come may already be used and released.
      let slot = Math.max(Math.floor(Date.now() / interval) + 1, known.get(key) ?? 0);
      for (;;) {
        try {
          await RateSlot.collection.insertOne({ _id: `${key}:${slot}` as never, scope, at: new Date(slot * interval) });
          break;
        } catch (error) {
          if (!isDuplicateKeyError(error)) throw error;
          slot++;
        }
      }
      known.set(key, Math.max(known.get(key) ?? 0, slot + 1));
      const id = `${key}:${slot}`;
      return {
        at: slot * interval,
        release: async () => {
          await RateSlot.deleteOne({ _id: id });
        },
      };
    },
  };
}
