import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { createBodyBudget } from '../src/receiver/body-budget';
import { errorHandler } from '../src/receiver/error-handler';
import { createLogger } from '../src/logger';
import { deliverEvent, signatureHeader, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';

/** Polls a condition (sync or async) every 25 ms for up to 5 s. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail('condition not reached within 5 s');
}

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
    // A quarter of the burst may be read at once and the rest fits in the waiting room (four budgets):
    // however the deliveries interleave, none is refused.
    const budget = Math.ceil(totalBytes / 4);
    let hookflow: RunningHookflow;
    before(async () => {
      hookflow = await startHookflow({ WEBHOOK_INFLIGHT_BYTES: String(budget) });
    });
    after(async () => {
      await hookflow?.close();
    });

    async function gauges() {
      const text = await (await fetch(new URL('/metrics', hookflow.webhookUrl))).text();
      const read = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
      return {
        inFlight: read('hookflow_webhook_body_bytes_in_flight'),
        waiting: read('hookflow_webhook_bodies_waiting'),
        waited: read('hookflow_webhook_bodies_waited_total'),
      };
    }

    it('keeps a delivery unread while another one fills the budget, then reads and stores both', async () => {
      // A delivery whose declared size is exactly the budget, sent in two halves: while its second
      // half has not arrived it holds the whole budget, so the next delivery must wait.
      const id = uniqueId('cus');
      const bodyWith = (padding: string) =>
        JSON.stringify(
          stripeEvent('customer.updated', stripeObject('customer', { id, description: padding })),
          null,
          2,
        );
      const large = Buffer.from(bodyWith('x'.repeat(budget - Buffer.byteLength(bodyWith('')))));
      assert.equal(large.length, budget);
      const largeEventId = (JSON.parse(large.toString()) as { id: string }).id;
      const { waited: waitedBefore } = await gauges();
      const url = new URL(hookflow.webhookUrl);
      const slow = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': large.length,
          'stripe-signature': signatureHeader(large.toString(), SECRET_A),
        },
      });
      const slowStatus = new Promise<number>((resolve, reject) => {
        slow.on('response', (response) => {
          response.resume();
          resolve(response.statusCode!);
        });
        slow.on('error', reject);
      });
      slow.write(large.subarray(0, large.length / 2));
      await until(async () => (await gauges()).inFlight === budget);
      const next = stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
      const nextAnswer = deliverEvent(hookflow.webhookUrl, next, SECRET_A);
      await until(async () => (await gauges()).waiting === 1);
      assert.equal((await gauges()).waited, waitedBefore + 1);
      slow.end(large.subarray(large.length / 2));
      assert.equal(await slowStatus, 200);
      assert.equal((await nextAnswer).status, 200);
      for (const eventId of [largeEventId, next.id]) {
        assert.equal((await waitForEventStatus(hookflow, eventId)).status, 'processed');
      }
      assert.deepEqual(await gauges(), { inFlight: 0, waiting: 0, waited: waitedBefore + 1 });
    });

    it('acknowledges and processes every delivery of a concurrent burst under a budget of a quarter of it', async () => {
      const answers = await Promise.all(events.map((event) => deliverEvent(hookflow.webhookUrl, event, SECRET_A)));
      assert.deepEqual(
        answers.map((answer) => answer.status),
        events.map(() => 200),
      );
      for (const event of events) {
        assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'processed');
      }
      // Every admitted delivery gave its bytes back, and nobody is left waiting.
      const after = await gauges();
      assert.equal(after.inFlight, 0);
      assert.equal(after.waiting, 0);
    });
  });
});
