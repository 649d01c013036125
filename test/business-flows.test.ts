import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { ProcessEventResult } from '../workflows/process-stripe-event';
import { bindBusinessModels, type BusinessModels } from '../src/stores/business-schemas';
import { createEndpointStore } from '../src/stores/endpoint-store';
import { parseAllowList } from '../src/outbound/ssrf-guard';
import { createSecretBox } from '../src/tenants/secret-box';
import { startFakeClerk, type FakeClerk } from './helpers/fake-clerk';
import { startFakeMerchant, type FakeMerchant } from './helpers/fake-merchant';
import {
  deliverEvent,
  stripeEvent,
  stripeObject,
  uniqueId,
  type StripeEventPayload,
  subscriptionCheckout,
} from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, workflowResult, type RunningHookflow } from './helpers/hookflow';

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

/**
 * Each row of the design's business table, end to end: a signed delivery → processStripeEvent →
 * activities → the requests a fake Clerk and a fake merchant endpoint receive.
 */
describe('business handlers, end to end from a signed delivery', () => {
  let hookflow: RunningHookflow;
  let clerk: FakeClerk;
  let merchant: FakeMerchant;
  let merchantSecret: string;
  let business: BusinessModels;

  before(async () => {
    clerk = await startFakeClerk();
    merchant = await startFakeMerchant(() => ({ status: 200 }));
    hookflow = await startHookflow({
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
      CLERK_SECRET_KEY: 'sk_test_business_flows',
      CLERK_API_URL: clerk.url,
      HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
      HOOKFLOW_OUTBOUND_RETRY_SCHEDULE: '200ms,200ms,200ms',
      HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    business = bindBusinessModels(hookflow.db.connection);
    const endpoints = createEndpointStore(hookflow.db.connection, {
      allow: parseAllowList('127.0.0.1/32'),
      secrets: createSecretBox(hookflow.config.tenants.masterKey!),
    });
    const endpoint = await endpoints.create({ tenantId: 'default', url: merchant.url, eventTypes: ['*'] });
    merchantSecret = endpoint.secret;
  });
  after(async () => {
    await hookflow?.close();
    await clerk?.close();
    await merchant?.close();
  });

  async function process(event: StripeEventPayload) {
    const response = await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    assert.equal(response.status, 200);
    const result = await workflowResult<ProcessEventResult>(hookflow, response.body.workflowId as string);
    const stored = await waitForEventStatus(hookflow, event.id);
    assert.equal(stored.status, 'processed', `processed (error: ${stored.error})`);
    return result;
  }

  /** Outbound messages the merchant received for a Stripe object, verified with the standardwebhooks library. */
  async function receivedFor(objectId: string, count: number) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const verified = merchant.received.map((request) => ({
        webhookId: request.webhookId,
        payload: new Webhook(merchantSecret).verify(request.body, headersOf(request.headers)) as {
          type: string;
          data: Record<string, unknown>;
        },
      }));
      const matching = verified.filter((message) => JSON.stringify(message.payload.data).includes(objectId));
      if (matching.length >= count || Date.now() > deadline) return matching;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('syncs the Clerk organization and user on checkout.session.completed, then the subscription status', async () => {
    const ids = {
      organizationId: uniqueId('org'),
      userId: uniqueId('user'),
      customerId: uniqueId('cus'),
      subscriptionId: uniqueId('sub'),
    };
    const now = Math.floor(Date.now() / 1000);
    clerk.reset();
    await process(
      checkoutFor(ids.organizationId, { ...ids, metadata: { clerk_user_id: ids.userId }, created: now - 20 }),
    );
    const expected = (subscriptionStatus: string) => ({
      public_metadata: {
        stripeCustomerId: ids.customerId,
        stripeSubscriptionId: ids.subscriptionId,
        subscriptionStatus,
      },
    });
    assert.deepEqual(
      clerk.requests.map((request) => [request.method, request.path, request.body]),
      [
        ['PATCH', `/v1/organizations/${ids.organizationId}/metadata`, expected('active')],
        ['PATCH', `/v1/users/${ids.userId}/metadata`, expected('active')],
      ],
    );

    const subscription = (status: string) =>
      stripeObject('subscription', { id: ids.subscriptionId, customer: ids.customerId, status, metadata: {} });
    clerk.reset();
    await process(stripeEvent('customer.subscription.updated', subscription('past_due'), { created: now - 10 }));
    assert.deepEqual(clerk.requests[0]?.body, expected('inactive'));
    assert.equal(clerk.requests[0]?.path, `/v1/organizations/${ids.organizationId}/metadata`);

    clerk.reset();
    await process(stripeEvent('customer.subscription.deleted', subscription('canceled'), { created: now }));
    assert.deepEqual(clerk.requests[0]?.body, expected('cancelled'));
  });

  it('retries Clerk after a 429 no earlier than its Retry-After, then succeeds', async () => {
    const organizationId = uniqueId('org');
    const path = `/v1/organizations/${organizationId}/metadata`;
    clerk.reset();
    clerk.script('PATCH', path, { status: 429, headers: { 'retry-after': '2' }, times: 1 });

    await process(checkoutFor(organizationId));

    const attempts = clerk.requests.filter((request) => request.path === path);
    assert.equal(attempts.length, 2, 'one 429, then one success');
    assert.ok(attempts[1]!.at - attempts[0]!.at >= 2000, `retried after ${attempts[1]!.at - attempts[0]!.at} ms`);
  });

  it('fails the event with a reason, without endless retries, when Clerk answers 404', async () => {
    const organizationId = uniqueId('org');
    const path = `/v1/organizations/${organizationId}/metadata`;
    clerk.reset();
    clerk.script('PATCH', path, { status: 404 });
    const event = checkoutFor(organizationId);

    const response = await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    await assert.rejects(workflowResult(hookflow, response.body.workflowId as string));
    const stored = await waitForEventStatus(hookflow, event.id);

    assert.equal(stored.status, 'failed');
    assert.match(stored.error ?? '', /ClerkRequestRejected/);
    assert.equal(clerk.requests.filter((request) => request.path === path).length, 1, 'a 404 is not retried');
  });

  it('cancels the organization that bought the subscription when its customer later bought for another one', async () => {
    const customerId = uniqueId('cus');
    const [orgA, orgB, subA, subB] = [uniqueId('org'), uniqueId('org'), uniqueId('sub'), uniqueId('sub')];
    const now = Math.floor(Date.now() / 1000);
    await process(checkoutFor(orgA, { customerId, subscriptionId: subA, created: now - 20 }));
    await process(checkoutFor(orgB, { customerId, subscriptionId: subB, created: now - 10 }));
    clerk.reset();

    const deleted = stripeObject('subscription', { id: subA, customer: customerId, status: 'canceled', metadata: {} });
    await process(stripeEvent('customer.subscription.deleted', deleted, { created: now }));

    assert.deepEqual(
      clerk.requests.map((request) => request.path),
      [`/v1/organizations/${orgA}/metadata`],
    );
    assert.deepEqual(clerk.requests[0]?.body, {
      public_metadata: { stripeCustomerId: customerId, stripeSubscriptionId: subA, subscriptionStatus: 'cancelled' },
    });
  });

  it('opens a dispute case, updates and resolves it, and sends the dispute messages in order', async () => {
    const disputeId = uniqueId('dp');
    const chargeId = uniqueId('ch');
    const dispute = (status: string) =>
      stripeObject('dispute', { id: disputeId, charge: chargeId, status, amount: 4200 });
    const now = Math.floor(Date.now() / 1000);
    const created = await process(
      stripeEvent('charge.dispute.created', dispute('needs_response'), { created: now - 20 }),
    );
    await process(stripeEvent('charge.dispute.updated', dispute('under_review'), { created: now - 10 }));
    await process(stripeEvent('charge.dispute.closed', dispute('won'), { created: now }));

    assert.equal(created.business?.outbound.length, 2);
    const cases = await business.Case.find({ stripeObjectId: disputeId }).lean();
    assert.equal(cases.length, 1, 'one case per dispute');
    assert.equal(cases[0]!.status, 'won');
    assert.equal(cases[0]!.history.length, 3);

    const messages = await receivedFor(disputeId, 4);
    assert.deepEqual(
      new Set(messages.map((message) => message.payload.type)),
      new Set(['dispute.created', 'case.created', 'dispute.updated', 'dispute.resolved']),
    );
    const order = messages
      .filter((message) => message.payload.type.startsWith('dispute.'))
      .map((message) => message.payload.type);
    assert.deepEqual(
      order,
      ['dispute.created', 'dispute.updated', 'dispute.resolved'],
      'dispute messages in Stripe event order',
    );

    const api = await fetch(`${hookflow.baseUrl}/api/cases/${cases[0]!.caseId}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(api.status, 200);
    const unauthorised = await fetch(`${hookflow.baseUrl}/api/cases/${cases[0]!.caseId}`);
    assert.equal(unauthorised.status, 401);
  });

  it('opens a fraud case on radar.early_fraud_warning.created and sends case.created', async () => {
    const warningId = uniqueId('issfr');
    await process(
      stripeEvent('radar.early_fraud_warning.created', stripeObject('radar.early_fraud_warning', { id: warningId })),
    );
    const fraud = await business.Case.findOne({ kind: 'fraud', stripeObjectId: warningId }).lean();
    assert.ok(fraud, 'fraud case opened');
    const messages = await receivedFor(warningId, 1);
    assert.deepEqual(
      messages.map((message) => message.payload.type),
      ['case.created'],
    );
  });

  it('links a succeeded charge to its payment session and marks a failed payment intent', async () => {
    const sessionId = uniqueId('ps');
    const chargeId = uniqueId('ch');
    await process(
      stripeEvent(
        'charge.succeeded',
        stripeObject('charge', { id: chargeId, metadata: { hookflow_session_id: sessionId } }),
      ),
    );
    const response = await fetch(`${hookflow.baseUrl}/api/sessions/${sessionId}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    assert.equal(response.status, 200);
    const { session } = (await response.json()) as { session: { status: string; chargeId: string } };
    assert.equal(session.status, 'succeeded');
    assert.equal(session.chargeId, chargeId);
    assert.deepEqual(
      (await receivedFor(chargeId, 1)).map((message) => message.payload.type),
      ['transaction.succeeded'],
    );

    const failedSession = uniqueId('ps');
    const intentId = uniqueId('pi');
    await process(
      stripeEvent(
        'payment_intent.payment_failed',
        stripeObject('payment_intent', { id: intentId, metadata: { clausum_session_id: failedSession } }),
      ),
    );
    const failed = await business.PaymentSession.findOne({ sessionId: failedSession }).lean();
    assert.equal(failed?.status, 'failed');
    assert.deepEqual(
      (await receivedFor(intentId, 1)).map((message) => message.payload.type),
      ['transaction.failed'],
    );
  });

  it('sends transaction.succeeded with sessionId null for a charge that names no payment session', async () => {
    const chargeId = uniqueId('ch');
    const result = await process(
      stripeEvent('charge.succeeded', stripeObject('charge', { id: chargeId, metadata: {} })),
    );
    assert.equal(result.business?.outcome, 'no_session');
    const [message] = await receivedFor(chargeId, 1);
    assert.equal(message?.payload.type, 'transaction.succeeded');
    assert.equal(message?.payload.data.sessionId, null);
    assert.equal(message?.payload.data.chargeId, chargeId);
  });

  it('records no_organization with the reason when client_reference_id is not a Clerk organization id', async () => {
    const userId = uniqueId('user');
    const bulk = checkoutFor('org_bulk_1', { metadata: { clerk_user_id: userId } });
    await process(bulk);
    const stored = await waitForEventStatus(hookflow, bulk.id);
    assert.equal(stored.outcome, 'no_organization');
    assert.equal(
      stored.reason,
      `client_reference_id 'org_bulk_1' is not a Clerk organization id (org_…); user ${userId} is not updated without an organization`,
    );

    // A value that is not id-shaped (here an email) is not copied into the record.
    const email = checkoutFor('buyer@example.com');
    await process(email);
    const emailStored = await waitForEventStatus(hookflow, email.id);
    assert.equal(emailStored.reason, 'client_reference_id is not a Clerk organization id (org_…)');
    assert.ok(!clerk.requests.some((request) => request.path.includes(userId)), 'Clerk is not called');
  });

  it('answers 400 naming the accepted query parameters for a parameter an /api route does not read', async () => {
    const get = (path: string) =>
      fetch(`${hookflow.baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const cases = await get('/api/cases?customer=cus_123');
    assert.equal(cases.status, 400);
    assert.deepEqual(await cases.json(), {
      error: {
        code: 'unknown_query_parameter',
        message:
          "Unknown query parameter 'customer': this route accepts tenant, status, kind, chargeId, account, limit.",
      },
    });
    const session = await get('/api/sessions/ps_missing?tenant=default&status=open');
    assert.equal(session.status, 400);
    assert.match(
      ((await session.json()) as { error: { message: string } }).error.message,
      /'status'.*accepts tenant\.$/,
    );
    assert.equal((await get('/api/cases?status=open&limit=5')).status, 200);
    assert.equal((await get('/api/cases/case_missing?tenant=default')).status, 404);
  });

  it('re-running a processed event creates no second case and sends no message under a new webhook-id', async () => {
    const disputeId = uniqueId('dp');
    const event = stripeEvent(
      'charge.dispute.created',
      stripeObject('dispute', { id: disputeId, status: 'needs_response' }),
    );
    await process(event);
    const before = await receivedFor(disputeId, 2);
    const caseBefore = await business.Case.findOne({ stripeObjectId: disputeId }).lean();

    // A forced re-run runs the same workflow code again under a derived id (the original id is closed).
    await hookflow.temporal.client.workflow.execute('processStripeEvent', {
      taskQueue: hookflow.config.temporal.taskQueue,
      workflowId: `stripe-event:default:${event.id}:rerun-test`,
      args: [{ tenantId: 'default', eventId: event.id }],
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));

    assert.equal(await business.Case.countDocuments({ stripeObjectId: disputeId }), 1);
    const caseAfter = await business.Case.findOne({ stripeObjectId: disputeId }).lean();
    assert.equal(caseAfter?.history.length, caseBefore?.history.length);
    const after = await receivedFor(disputeId, 2);
    assert.deepEqual(
      new Set(after.map((message) => message.webhookId)),
      new Set(before.map((message) => message.webhookId)),
    );
  });
});

/** A paid subscription checkout for a Clerk organization, from Stripe's example Checkout Session. */
function checkoutFor(
  organizationId: string,
  options: { customerId?: string; subscriptionId?: string; metadata?: Record<string, string>; created?: number } = {},
) {
  return subscriptionCheckout(
    organizationId,
    {
      ...(options.customerId && { customer: options.customerId }),
      ...(options.subscriptionId && { subscription: options.subscriptionId }),
      ...(options.metadata && { metadata: options.metadata }),
    },
    options.created === undefined ? {} : { created: options.created },
  );
}

function headersOf(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : (value ?? '')]),
  );
}
