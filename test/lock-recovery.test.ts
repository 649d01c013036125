import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { connectDatabase, type Database } from '../src/db/connection';
import { createLogger } from '../src/logger';
import { createApp } from '../src/receiver/app';
import { answerClientError } from '../src/receiver/error-handler';
import { createSingleTenantResolver } from '../src/receiver/tenants';
import type { EventStore } from '../src/stores/event-store';
import { DEFAULT_LEASE_MS, withLock, type LockModel } from '../src/stores/locks';
import { testStack } from './setup/global-stack';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A } from './helpers/hookflow';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const busy = () => Object.assign(new Error('database is locked (5) (SQLITE_BUSY)'), { code: 1 });

/**
 * Issue 9: a SIGKILLed worker held an object's lock for its whole 3-minute lease, a release that
 * met SQLITE_BUSY was never retried, and a busy database turned deliveries into 503s that one
 * retry would have stored.
 */
describe('lock recovery and transient store errors', () => {
  let db: Database;
  before(async () => {
    db = await connectDatabase(testStack().stack.mongoUrl(`hookflow_recovery_${randomBytes(4).toString('hex')}`));
  });
  after(async () => {
    await db?.connection.dropDatabase();
    await db?.close();
  });

  it('blocks an object for at most ~20 s after its holder died (was 3 minutes)', () => {
    assert.ok(DEFAULT_LEASE_MS <= 20_000, `lease ${DEFAULT_LEASE_MS} ms`);
  });

  it('renews the lease while the work runs, so a long holder is not overtaken', async () => {
    const order: string[] = [];
    const first = withLock(
      db.models.Lock,
      'renew:1',
      async () => {
        order.push('first:start');
        await sleep(1_500);
        order.push('first:end');
      },
      { leaseMs: 300 },
    );
    await sleep(100);
    const second = withLock(db.models.Lock, 'renew:1', async () => order.push('second'), {
      leaseMs: 300,
      waitMs: 5_000,
    });
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first:start', 'first:end', 'second']);
  });

  it('takes over from a holder that stopped renewing within one lease', async () => {
    await db.models.Lock.create({ _id: 'killed:1', owner: 'sigkilled-worker', expiresAt: new Date(Date.now() + 400) });
    const started = Date.now();
    assert.equal(await withLock(db.models.Lock, 'killed:1', async () => 'ran', { waitMs: 3_000 }), 'ran');
    assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  });

  it('retries a release that meets SQLITE_BUSY', async () => {
    let failures = 2;
    const flaky = new Proxy(db.models.Lock, {
      get(target, property, receiver) {
        if (property === 'deleteOne') {
          return (...args: Parameters<LockModel['deleteOne']>) =>
            failures-- > 0 ? Promise.reject(busy()) : target.deleteOne(...args);
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await withLock(flaky, 'release:1', async () => undefined);
    assert.equal(failures, -1, 'tried three times');
    assert.equal(await db.models.Lock.countDocuments({ _id: 'release:1' }), 0, 'released');
  });

  it('waits out SQLITE_BUSY on acquire instead of failing the activity', async () => {
    let failures = 2;
    const flaky = new Proxy(db.models.Lock, {
      get(target, property, receiver) {
        if (property === 'create') {
          return (...args: unknown[]) =>
            failures-- > 0 ? Promise.reject(busy()) : (target.create as (...a: unknown[]) => unknown)(...args);
        }
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    assert.equal(await withLock(flaky, 'acquire:1', async () => 'ran'), 'ran');
  });

  describe('the acknowledgement path', () => {
    async function receiverWith(recordBatch: EventStore['recordBatch']) {
      const { app } = createApp({
        log: createLogger('silent'),
        events: { recordBatch, releaseInbox: async () => undefined },
        resolveTenant: createSingleTenantResolver('default', [SECRET_A]),
        startWorkflow: async () => undefined,
        readiness: {},
        bodyLimitBytes: 1024 * 1024,
        toleranceSeconds: 300,
        storeRetryBudgetMs: 1_500,
        intake: { startConcurrency: 1, startAckTargetMs: 0, startQueueLimit: 10, maxBatch: 10 },
      });
      const server = app.listen(0, '127.0.0.1');
      server.on('clientError', answerClientError);
      await new Promise((resolve) => server.once('listening', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`, server };
    }

    it('retries a transient SQLITE_BUSY within the request budget and answers 200', async () => {
      let calls = 0;
      const { url, server } = await receiverWith(async (batch) => {
        if (++calls <= 2) throw busy();
        return { inboxId: 'inbox:1', results: batch.map(() => ({ duplicate: false, needsStart: false })) };
      });
      try {
        const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
        const response = await deliverEvent(url, event, SECRET_A);
        assert.equal(response.status, 200);
        assert.equal(calls, 3);
      } finally {
        server.close();
      }
    });

    it('answers 503 store_unavailable once the budget is spent, and at once for a non-transient error', async () => {
      let calls = 0;
      const { url, server } = await receiverWith(async () => {
        calls++;
        throw busy();
      });
      try {
        const started = Date.now();
        const response = await deliverEvent(url, stripeEvent('customer.created', stripeObject('customer')), SECRET_A);
        assert.equal(response.status, 503);
        assert.equal((response.body.error as { code: string }).code, 'store_unavailable');
        assert.ok(calls > 1 && Date.now() - started < 3_000, `${calls} calls in ${Date.now() - started} ms`);
      } finally {
        server.close();
      }
      calls = 0;
      const down = await receiverWith(async () => {
        calls++;
        throw new Error('E11000-like permanent failure');
      });
      try {
        const response = await deliverEvent(
          down.url,
          stripeEvent('customer.created', stripeObject('customer')),
          SECRET_A,
        );
        assert.equal(response.status, 503);
        assert.equal(calls, 1);
      } finally {
        down.server.close();
      }
    });
  });
});
