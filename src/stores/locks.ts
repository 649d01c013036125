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
 * Short, renewed leases: a holder that dies (a SIGKILLed worker) blocks the key for at most one
 * lease, while a live holder renews its lease every quarter of it for as long as its work runs —
 * so even work longer than the lease (a slow database, a local activity that is timing out and
 * still running) keeps its lock and is not overtaken by its own retry.
 */
export const DEFAULT_LEASE_MS = 20_000;

/** Attempts to release a lock before leaving it to expire (a release can meet `SQLITE_BUSY`). */
const RELEASE_ATTEMPTS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SQLite lock contention behind FerretDB, or a dropped connection: a moment later may succeed. */
export function isTransientLockError(error: unknown): boolean {
  const err = error as { name?: unknown; message?: unknown };
  return (
    err?.name === 'MongoNetworkError' ||
    (typeof err?.message === 'string' && /database is locked|SQLITE_BUSY|SQLITE_LOCKED/i.test(err.message))
  );
}

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
      // A busy database is waited out like a busy lock, within the same deadline.
      if (!isDuplicateKeyError(error) && !isTransientLockError(error)) throw error;
    }
    await releaseIfExpired(locks, key).catch((error: unknown) => {
      if (!isTransientLockError(error)) throw error;
    });
    if (Date.now() > deadline) {
      // Thrown to the activity: Temporal retries it later rather than this code spinning forever.
      throw new LockBusyError(`lock ${key} still held after ${waitMs} ms`);
    }
    await sleep(Math.min(200, 10 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random()));
  }
  const renewal = renewWhileHeld(locks, key, owner, leaseMs);
  try {
    return await work();
  } finally {
    await renewal.stop();
    await release(locks, key, owner);
  }
}

/**
 * Extends the lease every `leaseMs / 4` while the work runs. A failed renewal is retried at the
 * next tick (three more before the lease runs out); a renewal that finds the lock gone stops.
 */
function renewWhileHeld(locks: LockModel, key: string, owner: string, leaseMs: number) {
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(
    () => {
      inFlight = locks
        .updateOne({ _id: key, owner }, { $set: { expiresAt: new Date(Date.now() + leaseMs) } })
        .then((result) => {
          if (result.matchedCount === 0) clearInterval(timer);
        })
        .catch(() => undefined);
    },
    Math.max(50, Math.floor(leaseMs / 4)),
  );
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** Only the owner's lock is removed; a failed delete is retried, and at worst the lease runs out. */
async function release(locks: LockModel, key: string, owner: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await locks.deleteOne({ _id: key, owner });
      return;
    } catch {
      if (attempt >= RELEASE_ATTEMPTS) return; // the lease (seconds) frees the key; the work is done
      await sleep(50 * 2 ** attempt * (0.5 + Math.random()));
    }
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
