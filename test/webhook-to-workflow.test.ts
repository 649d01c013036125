import assert from 'node:assert/strict';
import type { ProcessResult } from '../activities/types';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import {
  listWorkflows,
  SECRET_A,
  startHookflow,
  waitForEventStatus,
  workflowResult,
  type RunningHookflow,
} from './helpers/hookflow';

describe('a verified Stripe delivery', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  it('answers 200, runs one workflow findable by StripeEventType, stores object state and marks the event processed', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus') });
    const event = stripeEvent('customer.created', customer);

    const response = await deliverEvent(hookflow.webhookUrl, event, SECRET_A);

    assert.equal(response.status, 200);
    const workflowId = `stripe-event:default:${event.id}`;
    assert.deepEqual(response.body, { received: true, eventId: event.id, workflowId, duplicate: false });
    const result = await workflowResult<ProcessResult>(hookflow, workflowId);
    assert.equal(result.outcome, 'applied');

    const query = `StripeEventType = 'customer.created' AND StripeObjectId = '${customer.id}'`;
    const found = await listWorkflows(hookflow, query, 1);
    assert.equal(found.length, 1);
    assert.equal(found[0]!.workflowId, workflowId);

    const state = await hookflow.db.models.ObjectState.findOne({ objectId: customer.id }).lean();
    assert.ok(state, 'object state stored');
    assert.equal(state.resource, 'customer');
    assert.equal(state.tenantId, 'default');
    assert.equal(state.watermarkEventId, event.id);
    assert.equal(state.source, 'webhook');
    assert.deepEqual(JSON.parse(state.state), customer);

    const stored = await waitForEventStatus(hookflow, event.id);
    assert.equal(stored.status, 'processed');
    assert.equal(stored.outcome, 'applied');
    assert.equal(stored.error, null);
    assert.ok(stored.processedAt, 'processing time recorded');
    assert.equal(
      await hookflow.db.models.Inbox.countDocuments({ eventKeys: `default:${event.id}` }),
      0,
      'off the reconciler list once its outcome is recorded',
    );
  });
});
