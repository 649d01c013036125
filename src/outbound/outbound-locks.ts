import type { Connection } from 'mongoose';
import { bindLockModel, type LockModel } from '../stores/locks';

/**
 * One writer per outbound document at a time: FerretDB 1.x rewrites a whole document on every
 * update without isolation, so an operator's `endpoints disable` racing a 410 handler, or a timed-out
 * activity still writing while the workflow's next step writes, could undo each other's fields.
 * Every update of an endpoint or message document runs under `withLock` on these keys.
 */
export const endpointLockKey = (endpointId: string) => `endpoint:${endpointId}`;
export const messageLockKey = (messageId: string) => `message:${messageId}`;

/** The connection's `Lock` model (connectDatabase binds it as `db.models.Lock`), bound here if it is not yet. */
export function lockModelOf(connection: Connection): LockModel {
  return (connection.models['Lock'] as LockModel | undefined) ?? bindLockModel(connection);
}
