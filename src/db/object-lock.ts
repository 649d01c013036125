import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKeyError } from './models';

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

export function bindLockModel(connection: Connection): LockModel {
  return connection.model('Lock', lockSchema) as unknown as LockModel;
}

export class LockBusyError extends Error {
  override readonly name = 'LockBusyError';
}

export interface LockOptions {
  leaseMs?: number;
  waitMs?: number;
}

export async function withLock<T>(
  locks: LockModel,
  key: string,
  work: () => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const leaseMs = options.leaseMs ?? 60_000;
  const deadline = Date.now() + (options.waitMs ?? 20_000);
  const owner = randomUUID();
  for (let attempt = 0; ; attempt++) {
    try {
      await locks.create({ _id: key, owner, expiresAt: new Date(Date.now() + leaseMs) });
      break;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // A holder that died keeps the lock only until its lease runs out.
    await locks.deleteOne({ _id: key, expiresAt: { $lt: new Date() } });
    if (Date.now() > deadline) {
      // Thrown to the activity: Temporal retries it later rather than this code spinning forever.
      throw new LockBusyError(`lock ${key} still held after ${options.waitMs ?? 20_000} ms`);
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
