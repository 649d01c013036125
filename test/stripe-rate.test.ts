import assert from 'node:assert/strict';
import mongoose, { type Connection } from 'mongoose';
import { createRateSlotStore } from '../src/stores/rate-slot-store';
import { FakeStripe } from '../src/fake-stripe/fake-stripe';
import { startHookflow, type RunningHookflow } from './helpers/hookflow';
import { runBackfill, stripeEnv } from './helpers/stripe-api';
import { uniqueId } from './helpers/stripe-events';

/**
 * The Stripe request rate is kept by rate slots in the database (src/stores/rate-slot-store.ts),
 * across every worker. The lower bound (how close to the cap a backfill gets) is measured by
 * bench/backfill-probe.ts; these tests pin the guarantee: never faster than the cap.
 */
describe('Stripe request rate (rate slots)', function () {
  this.timeout(180_000);

  describe('the slot store', () => {
    const connections: Connection[] = [];
    before(async () => {
      const { testStack } = await import('./setup/global-stack');
      const url = testStack().stack.mongoUrl(`hookflow_rate_slots_${uniqueId('db')}`);
      for (let i = 0; i < 2; i++) {
        connections.push(await mongoose.createConnection(url, { autoIndex: false, retryWrites: false }).asPromise());
      }
    });
    after(async () => {
      await connections[0]?.dropDatabase();
      await Promise.all(connections.map((connection) => connection.close()));
    });

    it('gives every slot to exactly one caller, across two processes claiming at once', async () => {
      // Two stores on two connections stand for two workers: neither knows what the other holds.
      const [one, two] = connections.map((connection) => createRateSlotStore(connection));
      const claims = await Promise.all(
        Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? one! : two!).claim('test:sandbox', 20)),
      );
      const times = claims.map((claim) => claim.at).sort((a, b) => a - b);
      assert.equal(new Set(times).size, 30, 'no slot given twice');
      for (const [index, at] of times.entries()) {
        assert.equal(at % 50, 0, 'slots start on the 50 ms grid of 20/s');
        if (index > 0) assert.equal(at - times[index - 1]!, 50, 'a backlog fills consecutive slots');
      }
      assert.ok(times[0]! > Date.now() - 10_000);
      await Promise.all(claims.map((claim) => claim.release()));
    });
  });

  describe('a backfill under a low cap', () => {
    let fake: FakeStripe;
    let hookflow: RunningHookflow;
    const perSecond = 2;
    before(async () => {
      fake = new FakeStripe();
      hookflow = await startHookflow({
        ...stripeEnv(await fake.listen()),
        STRIPE_API_SANDBOX_REQUESTS_PER_SECOND: String(perSecond),
      });
    });
    after(async () => {
      await hookflow?.close();
      await fake?.close();
    });

    it('never sends more list requests in any second than the cap allows, six resources at once', async () => {
      // Six children start together: unpaced, their first six requests leave within a few ms.
      const resources = ['customer', 'product', 'price', 'coupon', 'payout', 'plan'] as const;
      for (const resource of resources) fake.seed(resource, 300);
      const { handle } = await runBackfill(hookflow.temporal.client, hookflow.config.temporal.taskQueue, [
        ...resources,
      ]);
      assert.equal((await handle.result()).state, 'completed');
      const stamps = fake.requests.map((request) => request.at).sort((a, b) => a - b);
      assert.equal(stamps.length, 18, '3 pages of each resource');
      // Slots are 500 ms apart; a request arrives after its slot starts, by however long the worker
      // took to send it, so a late one may be followed closely by the next: in any one-second
      // window at most one request beyond the cap.
      for (const start of stamps) {
        const inWindow = stamps.filter((at) => at >= start && at < start + 1000).length;
        assert.ok(inWindow <= perSecond + 1, `${inWindow} requests within 1 s of ${start}`);
      }
      const seconds = (stamps.at(-1)! - stamps[0]!) / 1000;
      assert.ok(seconds >= (stamps.length - 1) / perSecond - 0.5, `18 requests took ${seconds} s`);
    });
  });
});
