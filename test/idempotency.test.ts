import assert from 'node:assert/strict';
import { deliver, signatureHeader, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import {
  listWorkflows,
  SECRET_A,
  startHookflow,
  waitForEventStatus,
  workflowResult,
  type RunningHookflow,
} from './helpers/hookflow';

describe('idempotent delivery', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  it('turns 25 concurrent deliveries of one event into one stored event and one workflow execution', async () => {
    const event = stripeEvent('charge.succeeded', stripeObject('charge', { id: uniqueId('ch') }));
    const body = JSON.stringify(event);
    const header = signatureHeader(body, SECRET_A);

    const responses = await Promise.all(
      Array.from({ length: 25 }, () => deliver(hookflow.webhookUrl, body, { 'stripe-signature': header })),
    );

    assert.deepEqual(
      responses.map((response) => response.status),
      Array(25).fill(200),
    );
    assert.equal(
      responses.filter((response) => response.body.duplicate === false).length,
      1,
      'exactly one first delivery',
    );
    assert.ok(responses.every((response) => response.body.workflowId === `stripe-event:default:${event.id}`));
    await waitForEventStatus(hookflow, event.id);
    assert.equal(await hookflow.db.models.StripeEvent.countDocuments({ eventId: event.id }), 1);
    const executions = await listWorkflows(hookflow, `WorkflowId = 'stripe-event:default:${event.id}'`, 1);
    assert.equal(executions.length, 1);
  });

  it('answers a redelivery after the workflow completed with duplicate: true and does not run it again', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    const body = JSON.stringify(event);
    const first = await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) });
    assert.equal(first.body.duplicate, false);
    await workflowResult(hookflow, first.body.workflowId as string);
    const processed = await waitForEventStatus(hookflow, event.id);

    const again = await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) });

    assert.equal(again.status, 200);
    assert.deepEqual(again.body, {
      received: true,
      eventId: event.id,
      workflowId: first.body.workflowId,
      duplicate: true,
    });
    const executions = await listWorkflows(hookflow, `WorkflowId = '${first.body.workflowId as string}'`, 1);
    assert.equal(executions.length, 1, 'still exactly one run');
    const after = await hookflow.db.models.StripeEvent.findOne({ eventId: event.id }).lean();
    assert.equal(after?.status, 'processed');
    assert.deepEqual(after?.processedAt, processed.processedAt, 'not processed a second time');
  });
});
