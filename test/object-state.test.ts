import assert from 'node:assert/strict';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, type StripeObject } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';

describe('object state', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  async function process(
    type: string,
    object: StripeObject,
    created: number,
    previousAttributes?: Record<string, unknown>,
  ) {
    const event = stripeEvent(type, object, { created, previousAttributes });
    const response = await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    assert.equal(response.status, 200);
    const stored = await waitForEventStatus(hookflow, event.id);
    assert.equal(stored.status, 'processed', `event ${type} processed (error: ${stored.error})`);
    return { event, stored };
  }

  async function stateOf(objectId: string) {
    const state = await hookflow.db.models.ObjectState.findOne({ objectId }).lean();
    assert.ok(state, `state of ${objectId} stored`);
    return { ...state, object: JSON.parse(state.state) as StripeObject };
  }

  it('keeps the newer state when an older customer.updated arrives late', async () => {
    const id = uniqueId('cus');
    const now = Math.floor(Date.now() / 1000);
    const newer = await process('customer.updated', stripeObject('customer', { id, name: 'Newer Name' }), now, {
      name: 'Old',
    });
    const older = await process('customer.updated', stripeObject('customer', { id, name: 'Older Name' }), now - 60);

    assert.equal(older.stored.outcome, 'stale');
    const state = await stateOf(id);
    assert.equal(state.object.name, 'Newer Name');
    assert.equal(state.watermarkEventId, newer.event.id);
    assert.equal(state.watermarkCreated, now);
    assert.equal(state.changeType, 'updated');
    assert.deepEqual(JSON.parse(state.previousAttributes!), { name: 'Old' });
    assert.equal(state.apiVersion, '2026-07-29');
    assert.equal(state.livemode, false);
  });

  it('marks the object deleted on customer.deleted', async () => {
    const id = uniqueId('cus');
    const now = Math.floor(Date.now() / 1000);
    await process('customer.created', stripeObject('customer', { id }), now - 10);
    const deleted = await process('customer.deleted', stripeObject('deleted_customer', { id }), now);

    const state = await stateOf(id);
    assert.equal(state.deleted, true);
    assert.equal(state.changeType, 'deleted');
    assert.equal(state.lastEventType, 'customer.deleted');
    assert.equal(state.watermarkEventId, deleted.event.id);
  });

  it('fans out invoice lines into child records and replaces them whole on the next invoice event', async () => {
    const id = uniqueId('in');
    const line = (lineId: string, amount: number) => ({ ...firstLine(), id: lineId, amount, invoice: id });
    const invoice = (lines: unknown[]) =>
      stripeObject('invoice', {
        id,
        lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${id}/lines` },
      });
    const now = Math.floor(Date.now() / 1000);

    await process('invoice.created', invoice([line('il_a', 100), line('il_b', 200)]), now - 5);
    const first = await hookflow.db.models.ObjectChild.find({ parentId: id }).sort({ position: 1 }).lean();
    assert.deepEqual(
      first.map((child) => [child.list, child.childId, (JSON.parse(child.state) as { amount: number }).amount]),
      [
        ['lines', 'il_a', 100],
        ['lines', 'il_b', 200],
      ],
    );

    await process('invoice.updated', invoice([line('il_b', 250), line('il_c', 300)]), now);
    const second = await hookflow.db.models.ObjectChild.find({ parentId: id }).sort({ position: 1 }).lean();
    assert.deepEqual(
      second.map((child) => [child.childId, (JSON.parse(child.state) as { amount: number }).amount]),
      [
        ['il_b', 250],
        ['il_c', 300],
      ],
    );
  });

  it('round-trips metadata keys containing dots and starting with $ losslessly', async () => {
    const id = uniqueId('cus');
    const metadata = { 'order.id': '42', $price: '9.99', 'a.b.c': 'x', plain: 'yes', 'emoji ✓': 'ünïcødé' };
    const customer = stripeObject('customer', { id, metadata });
    const { event } = await process('customer.created', customer, Math.floor(Date.now() / 1000));

    const state = await stateOf(id);
    assert.deepEqual(state.object.metadata, metadata);
    assert.deepEqual(state.object, customer);
    const stored = await hookflow.db.models.StripeEvent.findOne({ eventId: event.id }).lean();
    assert.deepEqual(JSON.parse(stored!.rawBody), event);
  });

  it('flags a same-second change from another event instead of dropping it', async () => {
    const id = uniqueId('cus');
    const now = Math.floor(Date.now() / 1000);
    await process('customer.updated', stripeObject('customer', { id, name: 'First' }), now);
    const second = await process('customer.updated', stripeObject('customer', { id, name: 'Second' }), now);

    assert.equal(second.stored.outcome, 'tie');
    const state = await stateOf(id);
    assert.equal(state.object.name, 'Second');
    assert.equal(state.sameSecondTie, true);
  });

  it('serialises concurrent events for one object so the newest always wins', async () => {
    const id = uniqueId('cus');
    const base = Math.floor(Date.now() / 1000) - 100;
    const events = Array.from({ length: 8 }, (_, i) =>
      stripeEvent('customer.updated', stripeObject('customer', { id, name: `v${i}` }), { created: base + i }),
    );
    await Promise.all(events.map((event) => deliverEvent(hookflow.webhookUrl, event, SECRET_A)));
    await Promise.all(events.map((event) => waitForEventStatus(hookflow, event.id)));

    const state = await stateOf(id);
    assert.equal(state.object.name, 'v7');
    assert.equal(state.watermarkEventId, events[7]!.id);
  });
});

function firstLine(): Record<string, unknown> {
  const lines = stripeObject('invoice').lines as { data: Array<Record<string, unknown>> };
  return lines.data[0]!;
}
