import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createBodyBudget } from '../src/receiver/body-budget';
import { errorHandler } from '../src/receiver/error-handler';
import { createLogger } from '../src/logger';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';

describe('webhook body budget', () => {
  describe('the budget itself', () => {
    // A server whose handler holds every admitted request until released, so the test sees exactly
    // which deliveries the budget let in at once.
    async function heldServer(options: { maxInFlightBytes: number; maxWaitingBytes: number }) {
      const budget = createBodyBudget({ ...options, bodyLimitBytes: 1_000 });
      const admitted: number[] = [];
      let maxBytes = 0;
      const releases: Array<() => void> = [];
      const app = new Koa();
      app.use(errorHandler(createLogger('silent', 'test')));
      app.use(budget.middleware);
      app.use(async (ctx) => {
        admitted.push(Number(ctx.get('x-n')));
        maxBytes = Math.max(maxBytes, budget.inFlightBytes());
        await new Promise<void>((release) => releases.push(release));
        ctx.body = { ok: true };
      });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const post = (n: number, bytes: number) =>
        fetch(url, { method: 'POST', headers: { 'x-n': String(n) }, body: 'x'.repeat(bytes) });
      const releaseAll = async () => {
        while (releases.length > 0) releases.shift()!();
        await new Promise((resolve) => setTimeout(resolve, 20));
      };
      return { budget, admitted, post, releaseAll, maxBytes: () => maxBytes, server };
    }

    async function until(check: () => boolean): Promise<void> {
      for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(check(), 'condition not reached within 2 s');
    }

    it('admits declared bytes up to the budget, queues the rest in arrival order, and refuses past the waiting budget with 429', async () => {
      const held = await heldServer({ maxInFlightBytes: 250, maxWaitingBytes: 200 });
      try {
        const answers = [1, 2, 3].map((n) => held.post(n, 100));
        await until(() => held.admitted.length === 2 && held.budget.waiting() === 1);
        const fourth = held.post(4, 100);
        await until(() => held.budget.waiting() === 2);
        // Waiting now holds 200 declared bytes: one more does not fit and is refused unread.
        const refused = await held.post(5, 100);
        assert.equal(refused.status, 429);
        assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'receiver_busy');
        assert.deepEqual(held.admitted, [1, 2]);
        while (held.admitted.length < 4) {
          await held.releaseAll();
        }
        await held.releaseAll();
        const statuses = await Promise.all([...answers, fourth].map(async (answer) => (await answer).status));
        assert.deepEqual(statuses, [200, 200, 200, 200]);
        assert.deepEqual(held.admitted, [1, 2, 3, 4], 'waiting deliveries are admitted in arrival order');
        assert.equal(held.maxBytes(), 200, 'never more than the budget in flight');
        assert.equal(held.budget.inFlightBytes(), 0);
        assert.equal(held.budget.waiting(), 0);
      } finally {
        held.server.close();
      }
    });

    it('reads a lone delivery larger than the budget when nothing else is in flight', async () => {
      const held = await heldServer({ maxInFlightBytes: 50, maxWaitingBytes: 50 });
      try {
        const answer = held.post(1, 400);
        await until(() => held.admitted.length === 1);
        assert.equal(held.budget.inFlightBytes(), 400);
        await held.releaseAll();
        assert.equal((await answer).status, 200);
        assert.equal(held.budget.inFlightBytes(), 0);
      } finally {
        held.server.close();
      }
    });
  });

  describe('in the receiver', () => {
    const events = Array.from({ length: 40 }, () =>
      stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') })),
    );
    // deliverEvent sends the event pretty-printed: these are the bodies' exact sizes.
    const totalBytes = events.reduce((sum, event) => sum + Buffer.byteLength(JSON.stringify(event, null, 2)), 0);
    // A quarter of the burst may be read at once, the rest fits in the waiting room (four budgets):
    // most deliveries have to wait, none is refused.
    const budget = Math.ceil(totalBytes / 4);
    let hookflow: RunningHookflow;
    before(async () => {
      hookflow = await startHookflow({ WEBHOOK_INFLIGHT_BYTES: String(budget) });
    });
    after(async () => {
      await hookflow?.close();
    });

    it('acknowledges and processes every delivery of a concurrent burst while holding a quarter of it at once', async () => {
      const answers = await Promise.all(events.map((event) => deliverEvent(hookflow.webhookUrl, event, SECRET_A)));
      assert.deepEqual(
        answers.map((answer) => answer.status),
        events.map(() => 200),
      );
      for (const event of events) {
        assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'processed');
      }
      const metrics = await (await fetch(new URL('/metrics', hookflow.webhookUrl))).text();
      assert.match(metrics, /^hookflow_webhook_body_bytes_in_flight 0$/m);
      assert.match(metrics, /^hookflow_webhook_bodies_waiting 0$/m);
      assert.ok(
        Number(/^hookflow_webhook_bodies_waited_total (\d+)$/m.exec(metrics)?.[1]) > 0,
        'some deliveries waited for room',
      );
    });
  });
});
