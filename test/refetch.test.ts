import assert from 'node:assert/strict';
import { FakeStripe } from '../src/fake-stripe/fake-stripe';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { stripeEnv } from './helpers/stripe-api';

describe('same-second ties and REFETCH_RESOURCES', function () {
  this.timeout(120_000);
  let fake: FakeStripe;
  let withKey: RunningHookflow;
  let withoutKey: RunningHookflow;

  before(async () => {
    fake = new FakeStripe();
    const url = await fake.listen();
    [withKey, withoutKey] = await Promise.all([
      startHookflow({ ...stripeEnv(url), REFETCH_RESOURCES: 'product' }),
      startHookflow(),
    ]);
  });
  after(async () => {
    await Promise.all([withKey?.close(), withoutKey?.close()]);
    await fake?.close();
  });

  async function sameSecondPair(hookflow: RunningHookflow, id: string) {
    const created = Math.floor(Date.now() / 1000) - 5;
    const first = stripeEvent('customer.updated', stripeObject('customer', { id, name: 'first payload' }), { created });
    const second = stripeEvent('customer.updated', stripeObject('customer', { id, name: 'second payload' }), {
      created,
    });
    for (const event of [first, second]) {
      assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
      await waitForEventStatus(hookflow, event.id);
    }
    const state = await hookflow.db.models.ObjectState.findOne({ objectId: id }).lean();
    const outcome = (await hookflow.db.models.StripeEvent.findOne({ eventId: second.id }).lean())?.outcome;
    return { state: state!, name: (JSON.parse(state!.state) as { name: string }).name, outcome };
  }

  it('stores the API’s version of an object when two events share a second and a key is configured', async () => {
    const id = uniqueId('cus');
    fake.add('customer', [stripeObject('customer', { id, name: 'as the API has it now', created: 1_700_000_000 })]);
    const { state, name, outcome } = await sameSecondPair(withKey, id);
    assert.equal(outcome, 'refetched');
    assert.equal(name, 'as the API has it now');
    assert.equal(state.source, 'refetch');
    assert.equal(state.sameSecondTie, false);
    assert.equal(fake.count(new RegExp(`^/v1/customers/${id}$`)), 1);
  });

  it('marks the object deleted when a same-second deletion leaves nothing for the API to return', async () => {
    // The fake has no such price: 404 resource_missing, as Stripe answers for most deleted objects.
    const id = uniqueId('price');
    const created = Math.floor(Date.now() / 1000) - 5;
    const updated = stripeEvent('price.updated', stripeObject('price', { id, nickname: 'before' }), { created });
    const deleted = stripeEvent('price.deleted', stripeObject('price', { id, nickname: 'before' }), { created });
    for (const event of [updated, deleted]) {
      assert.equal((await deliverEvent(withKey.webhookUrl, event, SECRET_A)).status, 200);
      assert.equal((await waitForEventStatus(withKey, event.id)).status, 'processed');
    }
    const outcome = (await withKey.db.models.StripeEvent.findOne({ eventId: deleted.id }).lean())?.outcome;
    const state = (await withKey.db.models.ObjectState.findOne({ objectId: id }).lean())!;
    assert.equal(outcome, 'refetched');
    assert.equal(state.deleted, true);
    assert.equal(state.source, 'refetch');
    assert.equal(state.sameSecondTie, false);
    assert.deepEqual(JSON.parse(state.state), { id, object: 'price', deleted: true });
    assert.equal(fake.count(new RegExp(`^/v1/prices/${id}$`)), 1);
  });

  it('flags the tie without a key', async () => {
    const { state, name, outcome } = await sameSecondPair(withoutKey, uniqueId('cus'));
    assert.equal(outcome, 'tie');
    assert.equal(name, 'second payload');
    assert.equal(state.sameSecondTie, true);
    assert.equal(state.source, 'webhook');
  });

  it('re-fetches every event of a REFETCH_RESOURCES resource instead of trusting the payload', async () => {
    const id = uniqueId('prod');
    fake.add('product', [stripeObject('product', { id, name: 'current product', created: 1_700_000_000 })]);
    const event = stripeEvent('product.updated', stripeObject('product', { id, name: 'payload product' }));
    assert.equal((await deliverEvent(withKey.webhookUrl, event, SECRET_A)).status, 200);
    assert.equal((await waitForEventStatus(withKey, event.id)).outcome, 'applied');
    const state = await withKey.db.models.ObjectState.findOne({ objectId: id }).lean();
    assert.equal((JSON.parse(state!.state) as { name: string }).name, 'current product');
    assert.equal(state!.source, 'refetch');
  });
});
