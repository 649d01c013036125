import assert from 'node:assert/strict';
import { FakeStripe, generated } from '../src/fake-stripe/fake-stripe';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, type StripeObject } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { runBackfill, stripeEnv } from './helpers/stripe-api';

/** `count` invoice line items of one invoice, in list order, amounts 100, 101, … so each is recognisable. */
function invoiceLines(invoiceId: string, count: number, amountBase = 100): StripeObject[] {
  return Array.from({ length: count }, (_, index) =>
    stripeObject('line_item', { id: `il_${invoiceId}_${index + 1}`, invoice: invoiceId, amount: amountBase + index }),
  );
}

function subscriptionItems(subscriptionId: string, count: number): StripeObject[] {
  return Array.from({ length: count }, (_, index) =>
    stripeObject('subscription_item', { id: `si_${subscriptionId}_${index + 1}`, subscription: subscriptionId }),
  );
}

/** A nested list as Stripe embeds it: the first 10 entries, `has_more` when there are more. */
function embedded(url: string, items: StripeObject[], shown = 10) {
  return {
    object: 'list',
    url,
    data: items.slice(0, shown),
    has_more: items.length > shown,
    total_count: items.length,
  };
}

describe('nested lists Stripe cuts short (invoice lines, subscription items)', function () {
  this.timeout(180_000);
  let fake: FakeStripe;
  let withKey: RunningHookflow;
  let withoutKey: RunningHookflow;

  before(async () => {
    fake = new FakeStripe();
    const url = await fake.listen();
    [withKey, withoutKey] = await Promise.all([startHookflow(stripeEnv(url)), startHookflow()]);
  });
  after(async () => {
    await Promise.all([withKey?.close(), withoutKey?.close()]);
    await fake?.close();
  });

  async function deliverProcessed(hookflow: RunningHookflow, type: string, object: StripeObject, created: number) {
    const event = stripeEvent(type, object, { created });
    assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
    const stored = await waitForEventStatus(hookflow, event.id);
    assert.equal(stored.status, 'processed', `${type} processed (error: ${stored.error})`);
  }

  async function childrenOf(hookflow: RunningHookflow, parentId: string) {
    const rows = await hookflow.db.models.ObjectChild.find({ parentId }).lean();
    return new Map(rows.map((row) => [row.childId, JSON.parse(row.state) as { amount?: number }]));
  }

  async function rowOf(hookflow: RunningHookflow, objectId: string) {
    const row = await hookflow.db.models.ObjectState.findOne({ objectId }).lean();
    assert.ok(row, `state of ${objectId} stored`);
    return row;
  }

  it('stores all 25 lines of an invoice.paid whose payload shows 10, reading the rest from the API with a key', async () => {
    const id = uniqueId('in');
    const lines = invoiceLines(id, 25);
    fake.addChildren('invoice', id, lines);
    const invoice = stripeObject('invoice', { id, lines: embedded(`/v1/invoices/${id}/lines`, lines) });

    await deliverProcessed(withKey, 'invoice.paid', invoice, Math.floor(Date.now() / 1000));

    const children = await childrenOf(withKey, id);
    assert.deepEqual([...children.keys()].sort(), lines.map((line) => line.id).sort());
    assert.equal(fake.count(new RegExp(`^/v1/invoices/${id}/lines$`)), 1, 'one request of 100 lines');
    const row = await rowOf(withKey, id);
    assert.equal(row.childrenComplete, true);
    assert.equal(row.childIds.length, 25);
    const stored = JSON.parse(row.state) as { lines: { has_more: boolean; data: unknown[] } };
    assert.equal(stored.lines.has_more, false);
    assert.equal(stored.lines.data.length, 25);
  });

  it('keeps the stored lines 11-25 without a key, upserts the 10 shown and flags the row incomplete', async () => {
    const id = uniqueId('in');
    const now = Math.floor(Date.now() / 1000);
    const before = invoiceLines(id, 25);
    const all = { object: 'list', url: `/v1/invoices/${id}/lines`, data: before, has_more: false };
    await deliverProcessed(withoutKey, 'invoice.finalized', stripeObject('invoice', { id, lines: all }), now - 10);
    assert.equal((await childrenOf(withoutKey, id)).size, 25);

    const after = invoiceLines(id, 25, 500);
    const paid = stripeObject('invoice', { id, lines: embedded(`/v1/invoices/${id}/lines`, after) });
    await deliverProcessed(withoutKey, 'invoice.paid', paid, now);

    const children = await childrenOf(withoutKey, id);
    assert.equal(children.size, 25, 'no line removed');
    assert.equal(children.get(`il_${id}_1`)?.amount, 500, 'a line shown is upserted');
    assert.equal(children.get(`il_${id}_10`)?.amount, 509);
    assert.equal(children.get(`il_${id}_11`)?.amount, 110, 'a line not shown keeps its stored state');
    assert.equal(children.get(`il_${id}_25`)?.amount, 124);
    const row = await rowOf(withoutKey, id);
    assert.equal(row.childrenComplete, false);
    assert.equal(row.childIds.length, 25, 'the row still lists every stored line');
    assert.equal(row.lastEventType, 'invoice.paid');
  });

  it('keeps what the payload has when the API no longer has the invoice’s lines (404)', async () => {
    const id = uniqueId('in');
    const lines = invoiceLines(id, 12);
    const invoice = stripeObject('invoice', { id, lines: embedded(`/v1/invoices/${id}/lines`, lines) });

    await deliverProcessed(withKey, 'invoice.updated', invoice, Math.floor(Date.now() / 1000));

    assert.equal(fake.count(new RegExp(`^/v1/invoices/${id}/lines$`)), 1);
    assert.deepEqual(
      [...(await childrenOf(withKey, id)).keys()].sort(),
      lines
        .slice(0, 10)
        .map((l) => l.id)
        .sort(),
    );
    assert.equal((await rowOf(withKey, id)).childrenComplete, false);
  });

  it('retries the line listing after a 500 and then stores every line', async () => {
    const id = uniqueId('in');
    const lines = invoiceLines(id, 14);
    fake.addChildren('invoice', id, lines);
    fake.inject({ path: new RegExp(`^/v1/invoices/${id}/lines$`), status: 500 });
    const invoice = stripeObject('invoice', { id, lines: embedded(`/v1/invoices/${id}/lines`, lines) });

    await deliverProcessed(withKey, 'invoice.paid', invoice, Math.floor(Date.now() / 1000));

    assert.equal(fake.count(new RegExp(`^/v1/invoices/${id}/lines$`)), 2, 'the 500, then the answer');
    assert.equal((await childrenOf(withKey, id)).size, 14);
    assert.equal((await rowOf(withKey, id)).childrenComplete, true);
  });

  it('stores all 12 items of a customer.subscription.updated whose payload shows 10', async () => {
    const id = uniqueId('sub');
    const items = subscriptionItems(id, 12);
    fake.addChildren('subscription', id, items);
    const subscription = stripeObject('subscription', {
      id,
      items: embedded(`/v1/subscription_items?subscription=${id}`, items),
    });

    await deliverProcessed(withKey, 'customer.subscription.updated', subscription, Math.floor(Date.now() / 1000));

    assert.deepEqual([...(await childrenOf(withKey, id)).keys()].sort(), items.map((item) => item.id).sort());
    assert.equal(
      fake.count(/^\/v1\/subscription_items$/, (query) => query.get('subscription') === id),
      1,
    );
    assert.equal((await rowOf(withKey, id)).childrenComplete, true);
  });

  it('backfills invoices and subscriptions with every line and item, paging lists past 100', async () => {
    const now = Math.floor(Date.now() / 1000) - 60;
    const invoices = [3, 25, 150].map((count, index) => {
      const id = uniqueId('in');
      const lines = invoiceLines(id, count);
      if (count > 10) fake.addChildren('invoice', id, lines);
      return {
        id,
        lines,
        object: generated('invoice', now - index, { id, lines: embedded(`/v1/invoices/${id}/lines`, lines) }),
      };
    });
    const subscriptionId = uniqueId('sub');
    const items = subscriptionItems(subscriptionId, 11);
    fake.addChildren('subscription', subscriptionId, items);
    fake.add(
      'invoice',
      invoices.map((invoice) => invoice.object),
    );
    fake.add('subscription', [
      generated('subscription', now, {
        id: subscriptionId,
        status: 'active',
        items: embedded(`/v1/subscription_items?subscription=${subscriptionId}`, items),
      }),
    ]);

    const { handle } = await runBackfill(withKey.temporal.client, withKey.config.temporal.taskQueue, [
      'invoice',
      'subscription',
    ]);
    assert.equal((await handle.result()).state, 'completed');

    for (const invoice of invoices) {
      const children = await childrenOf(withKey, invoice.id);
      assert.deepEqual([...children.keys()].sort(), invoice.lines.map((line) => line.id).sort(), invoice.id);
      const row = await rowOf(withKey, invoice.id);
      assert.equal(row.source, 'snapshot');
      assert.equal(row.childrenComplete, true);
    }
    const [few, some, many] = invoices.map((invoice) => new RegExp(`^/v1/invoices/${invoice.id}/lines$`));
    assert.equal(fake.count(few!), 0, 'a complete list is not read again');
    assert.equal(fake.count(some!), 1);
    assert.equal(fake.count(many!), 2, '150 lines: two pages of 100');
    assert.equal(
      fake.count(many!, (query) => query.get('starting_after') === `il_${invoices[2]!.id}_100`),
      1,
    );
    assert.deepEqual(
      [...(await childrenOf(withKey, subscriptionId)).keys()].sort(),
      items.map((item) => item.id).sort(),
    );
    assert.equal((await rowOf(withKey, subscriptionId)).childrenComplete, true);
  });
});
