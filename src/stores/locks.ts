import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from './duplicate-key';

/**
 * Per-key mutual exclusion for read-compare-write sequences.
 *
 * Why: FerretDB 1.x (SQLite backend) runs an update as read-modify-write without isolation, so
 * concurrent updates of one document lose writes — 30 concurrent `$inc` of one field added 7 in
 * our measurement, and a conditional `updateOne` matched several racing writers. The one atomic
 * primitive it has is a unique index, so a lock is an insert of the key as `_id`. On MongoDB the
 * lock is merely redundant. A lease bounds how long a crashed holder blocks others.
 */
const lockSchema = new Schema(
  {
    _id: { type: String, required: true },
    owner: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'locks', versionKey: false },
);

export type LockModel = Model<{ _id: string; owner: string; expiresAt: Date }>;

/** Binds (or returns the already bound) lock model of a connection. */
export function bindLockModel(connection: Connection): LockModel {
  return (connection.models.Lock ?? connection.model('Lock', lockSchema)) as unknown as LockModel;
}

export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
}

export interface LockOptions {
  leaseMs?: number;
  waitMs?: number;
}

/**
 * The lease outlives the activity that takes the lock (start-to-close 1 minute) by a margin, so a
 * timed-out attempt that is still running cannot lose its lock to its own retry.
 */
export const DEFAULT_LEASE_MS = 3 * 60_000;

export async function withLock<T>(
  locks: LockModel,
  key: string,
  work: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const waitMs = options.waitMs ?? 20_000;
  const deadline = Date.now() + waitMs;
  const owner = randomUUID();
  for (let attempt = 0; ; attempt++) {
    try {
      await locks.create({ _id: key, owner, expiresAt: new Date(Date.now() + leaseMs) });
      break;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    await releaseIfExpired(locks, key);
    if (Date.now() > deadline) {
      // Thrown to the activity: Temporal retries it later rather than this code spinning forever.
      throw new LockBusyError(`lock ${key} still held after ${waitMs} ms`);
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(200, 10 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random())),
    );
  }
  try {
    return await work();
  } finally {
    await locks.deleteOne({ _id: key, owner });
  }
}

/**
 * A holder that died keeps the lock only until its lease runs out. Taking it over is itself
 * fenced with a unique insert (`<key>#expired#<owner>`): only one waiter removes a given expired
 * lock, so no waiter can delete a lock another has just taken (a conditional delete is not atomic
 * on FerretDB).
 */
async function releaseIfExpired(locks: LockModel, key: string): Promise<void> {
  const current = await locks.findOne({ _id: key }).lean();
  if (!current || current.expiresAt.getTime() >= Date.now()) return;
  const fence = `${key}#expired#${current.owner}`;
  try {
    await locks.create({ _id: fence, owner: current.owner, expiresAt: new Date(Date.now() + 60_000) });
  } catch (error) {
    if (isDuplicateKeyError(error)) return; // another waiter is removing it
    throw error;
  }
  // The fence stays: one small document per taken-over lock (rare: a crashed holder) guarantees
  // that no later waiter acts on the same expired lock again.
  await locks.deleteOne({ _id: key, owner: current.owner });
}
