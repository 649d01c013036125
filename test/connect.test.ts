import assert from 'node:assert/strict';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, type StripeEventPayload } from './helpers/stripe-events';
import { listWorkflows, SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';

describe('Stripe Connect accounts', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  function connectEvent(account: string): StripeEventPayload & { account: string } {
    return {
      ...stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus'), name: account })),
      account,
    };
  }

  it('records the connected account on the event, the object state and the StripeAccountId search attribute', async () => {
    const one = connectEvent('acct_1');
    const two = connectEvent('acct_2');
    for (const event of [one, two]) {
      assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
      assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'processed');
    }
    const byAccount = async (account: string) => ({
      events: await hookflow.db.models.StripeEvent.find({ account }).lean(),
      states: await hookflow.db.models.ObjectState.find({ account }).lean(),
    });
    const first = await byAccount('acct_1');
    const second = await byAccount('acct_2');
    assert.deepEqual(
      first.events.map((event) => event.eventId),
      [one.id],
    );
    assert.deepEqual(
      second.events.map((event) => event.eventId),
      [two.id],
    );
    assert.deepEqual(
      first.states.map((state) => state.objectId),
      [one.data.object.id],
    );
    assert.deepEqual(
      second.states.map((state) => state.objectId),
      [two.data.object.id],
    );
    const inTemporal = await listWorkflows(
      hookflow,
      `StripeAccountId = 'acct_1' AND TaskQueue = '${hookflow.config.temporal.taskQueue}'`,
      1,
    );
    assert.deepEqual(
      inTemporal.map((run) => run.workflowId),
      [`stripe-event:default:${one.id}`],
    );
  });
});
