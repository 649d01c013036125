import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../src/db/connection';
import { LockBusyError, withLock } from '../src/stores/locks';
import { testStack } from './setup/global-stack';

describe('the object lock (unique-index insert on FerretDB)', () => {
  let db: Database;
  before(async () => {
    db = await connectDatabase(testStack().stack.mongoUrl(`hookflow_lock_${randomBytes(4).toString('hex')}`));
  });
  after(async () => {
    await db?.connection.dropDatabase();
    await db?.close();
  });

  it('lets only one of many concurrent read-increment-write sequences run at a time', async () => {
    const counters = db.connection.collection<{ _id: string; n: number }>('counters');
    await counters.insertOne({ _id: 'c', n: 0 });
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withLock(db.models.Lock, 'counter:c', async () => {
          const current = await counters.findOne({ _id: 'c' });
          await counters.updateOne({ _id: 'c' }, { $set: { n: current!.n + 1 } });
        }),
      ),
    );
    assert.equal((await counters.findOne({ _id: 'c' }))?.n, 20);
    assert.equal(await db.models.Lock.countDocuments({ _id: 'counter:c' }), 0, 'released');
  });

  it('takes over a lock whose holder died once its lease has run out', async () => {
    await db.models.Lock.create({ _id: 'dead:1', owner: 'crashed-worker', expiresAt: new Date(Date.now() - 1000) });
    const ran = await withLock(db.models.Lock, 'dead:1', async () => 'ran', { waitMs: 2000 });
    assert.equal(ran, 'ran');
  });

  it('gives up with LockBusyError while a live holder keeps the lock', async () => {
    await db.models.Lock.create({ _id: 'busy:1', owner: 'live-worker', expiresAt: new Date(Date.now() + 60_000) });
    await assert.rejects(
      withLock(db.models.Lock, 'busy:1', async () => 'ran', { waitMs: 300 }),
      (error: unknown) => error instanceof LockBusyError,
    );
    assert.equal((await db.models.Lock.findOne({ _id: 'busy:1' }).lean())?.owner, 'live-worker', 'not stolen');
  });
});
