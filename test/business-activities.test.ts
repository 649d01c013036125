import { createClerkClient } from '@clerk/backend';
import { ApplicationFailure } from '@temporalio/common';
import Koa from 'koa';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBusinessActivities } from '../activities/business-activities';
import type { BusinessActivities } from '../activities/business-types';
import type { EventRef } from '../activities/types';
import type { ClerkResolver } from '../src/clerk/clerk-clients';
import { connectDatabase, type Database } from '../src/db/connection';
import { bindBusinessModels, type BusinessModels } from '../src/stores/business-schemas';
import { createCaseStore, type CaseStore } from '../src/stores/case-store';
import { createClerkStore } from '../src/stores/clerk-store';
import type { EventStore } from '../src/stores/event-store';
import { createPaymentSessionStore, type PaymentSessionStore } from '../src/stores/payment-session-store';
import { createLogger } from '../src/logger';
import { createAdminApiRouter } from '../src/receiver/admin-api-router';
import { errorHandler } from '../src/receiver/error-handler';
import { summarizeEvent } from '../src/stripe/event-summary';
import { toApplicationFailure } from '../src/temporal/failure-mapper';
import { startFakeClerk, type FakeClerk } from './helpers/fake-clerk';
import { stripeEvent, stripeObject, uniqueId, type StripeEventPayload } from './helpers/stripe-events';
import { testStack } from './setup/global-stack';

const TENANT = 'acme';
const CLERK_SECRET = 'sk_test_fake_clerk_secret';

describe('business activities', () => {
  let db: Database;
  /** Raw models, to assert what the stores wrote. */
  let models: BusinessModels;
  let cases: CaseStore;
  let paymentSessions: PaymentSessionStore;
  let events: EventStore;
  let clerk: FakeClerk;
  let clerkFor: ClerkResolver;
  let activities: BusinessActivities;

  before(async () => {
    db = await connectDatabase(testStack().stack.mongoUrl(`hookflow_business_${randomBytes(4).toString('hex')}`));
    cases = createCaseStore(db.connection);
    paymentSessions = createPaymentSessionStore(db.connection);
    const clerkLinks = createClerkStore(db.connection);
    models = bindBusinessModels(db.connection);
    events = db.stores.events;
    clerk = await startFakeClerk();
    const client = createClerkClient({ secretKey: CLERK_SECRET, apiUrl: clerk.url });
    clerkFor = async () => client;
    activities = createBusinessActivities({
      events,
      cases,
      paymentSessions,
      clerkLinks,
      clerkFor: (tenantId) => clerkFor(tenantId),
      sessionMetadataKey: 'shop_session',
    });
  });
  beforeEach(() => clerk.reset());
  after(async () => {
    await clerk?.close();
    await db?.connection.dropDatabase();
    await db?.close();
  });

  async function store(event: StripeEventPayload): Promise<EventRef> {
    await events.recordReceived({
      tenantId: TENANT,
      summary: summarizeEvent(event),
      rawBody: JSON.stringify(event),
      workflowId: `stripe-event:${TENANT}:${event.id}`,
    });
    return { tenantId: TENANT, eventId: event.id };
  }

  function clerkCalls() {
    return clerk.requests.map(({ method, path, body }) => ({ method, path, body }));
  }

  function purchase(created: number) {
    const ids = {
      organizationId: uniqueId('org'),
      userId: uniqueId('user'),
      customerId: uniqueId('cus'),
      subscriptionId: uniqueId('sub'),
    };
    const session = stripeObject('checkout.session', {
      id: uniqueId('cs_test'),
      mode: 'subscription',
      status: 'complete',
      payment_status: 'paid',
      client_reference_id: ids.organizationId,
      customer: ids.customerId,
      subscription: ids.subscriptionId,
      metadata: { clerk_user_id: ids.userId },
    });
    return { ids, event: stripeEvent('checkout.session.completed', session, { created }) };
  }

  function subscriptionEvent(
    type: string,
    ids: { customerId: string; subscriptionId: string },
    status: string,
    created: number,
    metadata: Record<string, string> = {},
  ) {
    const subscription = stripeObject('subscription', {
      id: ids.subscriptionId,
      customer: ids.customerId,
      status,
      metadata,
    });
    return stripeEvent(type, subscription, { created });
  }

  function metadataPatches(ids: { organizationId: string; userId: string }, metadata: Record<string, unknown>) {
    const body = { public_metadata: metadata };
    return [
      { method: 'PATCH', path: `/v1/organizations/${ids.organizationId}/metadata`, body },
      { method: 'PATCH', path: `/v1/users/${ids.userId}/metadata`, body },
    ];
  }

  async function rejection(promise: Promise<unknown>): Promise<ApplicationFailure> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
      return error;
    }
    assert.fail('expected the activity to fail');
  }

  describe('Clerk sync', () => {
    it('patches the organization and the purchasing user on checkout.session.completed and caches the status', async () => {
      const { ids, event } = purchase(1_700_000_000);

      const result = await activities.syncClerkCheckout(await store(event));

      assert.deepEqual(result, { outcome: 'clerk_synced', outbound: [] });
      assert.deepEqual(
        clerkCalls(),
        metadataPatches(ids, {
          stripeCustomerId: ids.customerId,
          stripeSubscriptionId: ids.subscriptionId,
          subscriptionStatus: 'active',
        }),
      );
      assert.equal(clerk.requests[0]!.headers.authorization, `Bearer ${CLERK_SECRET}`);
      const cached = await models.OrganizationSubscription.findOne({ organizationId: ids.organizationId }).lean();
      assert.equal(cached?.status, 'active');
      assert.equal(cached?.tenantId, TENANT);
      const link = await models.CustomerLink.findOne({ stripeCustomerId: ids.customerId }).lean();
      assert.equal(link?.organizationId, ids.organizationId);
      assert.equal(link?.userId, ids.userId);
    });

    it('marks the organization inactive on a past_due update, cancelled on delete, and ignores an older update', async () => {
      const { ids, event } = purchase(1_700_000_000);
      await activities.syncClerkCheckout(await store(event));
      clerk.reset();
      const expected = (subscriptionStatus: string) =>
        metadataPatches(ids, {
          stripeCustomerId: ids.customerId,
          stripeSubscriptionId: ids.subscriptionId,
          subscriptionStatus,
        });

      const updated = subscriptionEvent('customer.subscription.updated', ids, 'past_due', 1_700_000_100);
      assert.equal((await activities.syncClerkSubscription(await store(updated))).outcome, 'clerk_synced');
      assert.deepEqual(clerkCalls(), expected('inactive'));

      clerk.reset();
      const deleted = subscriptionEvent('customer.subscription.deleted', ids, 'canceled', 1_700_000_200);
      assert.equal((await activities.syncClerkSubscription(await store(deleted))).outcome, 'clerk_synced');
      assert.deepEqual(clerkCalls(), expected('cancelled'));

      clerk.reset();
      const late = subscriptionEvent('customer.subscription.updated', ids, 'active', 1_700_000_150);
      assert.equal((await activities.syncClerkSubscription(await store(late))).outcome, 'stale');
      assert.deepEqual(clerkCalls(), []);
      const cached = await models.OrganizationSubscription.findOne({ organizationId: ids.organizationId }).lean();
      assert.equal(cached?.status, 'cancelled');
    });

    it('keeps an update that arrives before its checkout waiting with a retryable OrganizationLinkPending failure', async () => {
      const { ids, event } = purchase(1_700_000_000);
      const early = await store(subscriptionEvent('customer.subscription.updated', ids, 'trialing', 1_700_000_050));

      const failure = await rejection(activities.syncClerkSubscription(early));
      assert.equal(failure.type, 'OrganizationLinkPending');
      assert.equal(failure.nonRetryable, false);
      assert.ok(failure.nextRetryDelay, 'a retry delay is set');
      assert.deepEqual(clerkCalls(), []);

      await activities.syncClerkCheckout(await store(event));
      clerk.reset();
      assert.equal((await activities.syncClerkSubscription(early)).outcome, 'clerk_synced');
      assert.equal(clerkCalls()[0]!.path, `/v1/organizations/${ids.organizationId}/metadata`);
    });

    it('resolves the organization from the subscription metadata when no checkout linked it', async () => {
      const organizationId = uniqueId('org');
      const ids = { customerId: uniqueId('cus'), subscriptionId: uniqueId('sub') };
      const event = subscriptionEvent('customer.subscription.updated', ids, 'active', 1_700_000_000, {
        organization_id: organizationId,
      });

      assert.equal((await activities.syncClerkSubscription(await store(event))).outcome, 'clerk_synced');
      assert.deepEqual(clerkCalls(), [
        {
          method: 'PATCH',
          path: `/v1/organizations/${organizationId}/metadata`,
          body: {
            public_metadata: {
              stripeCustomerId: ids.customerId,
              stripeSubscriptionId: ids.subscriptionId,
              subscriptionStatus: 'active',
            },
          },
        },
      ]);
    });

    it('finds the organization of a subscription by its subscription link alone, every lookup by _id', async () => {
      const organizationId = uniqueId('org');
      const ids = { customerId: uniqueId('cus'), subscriptionId: uniqueId('sub') };
      // The organization is learnt from this first event's metadata; no checkout ever links the customer.
      const named = subscriptionEvent('customer.subscription.updated', ids, 'active', 1_700_000_000, {
        organization_id: organizationId,
      });
      assert.equal((await activities.syncClerkSubscription(await store(named))).outcome, 'clerk_synced');
      const link = await models.SubscriptionLink.findOne({ _id: `${TENANT}:${ids.subscriptionId}` }).lean();
      assert.equal(link?.organizationId, organizationId);
      assert.equal(await models.CustomerLink.countDocuments({ stripeCustomerId: ids.customerId }), 0);
      clerk.reset();

      const unnamed = await store(subscriptionEvent('customer.subscription.updated', ids, 'past_due', 1_700_000_100));
      const filters: Array<{ collection: string; method: string; filter: unknown }> = [];
      const business = new Set(['clerk_customer_links', 'clerk_subscription_links', 'organization_subscriptions']);
      const probe = (operation: { collectionName: string; method: string; params: unknown[] }) => {
        if (business.has(operation.collectionName) && !operation.method.startsWith('insert')) {
          filters.push({ collection: operation.collectionName, method: operation.method, filter: operation.params[0] });
        }
      };
      db.connection.on('operation-start', probe);
      const result = await activities
        .syncClerkSubscription(unnamed)
        .finally(() => db.connection.off('operation-start', probe));

      assert.equal(result.outcome, 'clerk_synced');
      assert.deepEqual(clerkCalls(), [
        {
          method: 'PATCH',
          path: `/v1/organizations/${organizationId}/metadata`,
          body: {
            public_metadata: {
              stripeCustomerId: ids.customerId,
              stripeSubscriptionId: ids.subscriptionId,
              subscriptionStatus: 'inactive',
            },
          },
        },
      ]);
      assert.ok(
        filters.some((found) => found.collection === 'clerk_subscription_links'),
        'the subscription link was read',
      );
      for (const { collection, method, filter } of filters) {
        // FerretDB's SQLite backend answers only an exact `{ _id: <string> }` filter from an index.
        assert.deepEqual(Object.keys(filter as object), ['_id'], `${collection}.${method} by _id only`);
        assert.equal(typeof (filter as { _id: unknown })._id, 'string', `${collection}.${method} by a string _id`);
      }
      const cached = await models.OrganizationSubscription.findOne({ _id: `${TENANT}:${organizationId}` }).lean();
      assert.equal(cached?.status, 'inactive');
    });

    it('turns a Clerk 429 into a retryable failure with nextRetryDelay from Retry-After, and the retry succeeds', async () => {
      const { ids, event } = purchase(1_700_000_000);
      const path = `/v1/organizations/${ids.organizationId}/metadata`;
      clerk.script('PATCH', path, { status: 429, headers: { 'Retry-After': '2' }, times: 1 });
      const ref = await store(event);

      const failure = await rejection(activities.syncClerkCheckout(ref));
      assert.equal(failure.type, 'ClerkRateLimited');
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.nextRetryDelay, 2000);

      assert.equal((await activities.syncClerkCheckout(ref)).outcome, 'clerk_synced');
      assert.deepEqual(
        clerkCalls().map((call) => call.path),
        [path, path, `/v1/users/${ids.userId}/metadata`],
      );
      assert.equal(await models.CustomerLink.countDocuments({ stripeCustomerId: ids.customerId }), 1);
    });

    it('turns a Clerk 404 into a non-retryable ClerkRequestRejected failure that names the organization', async () => {
      const { ids, event } = purchase(1_700_000_000);
      clerk.script('PATCH', `/v1/organizations/${ids.organizationId}/metadata`, { status: 404 });

      const failure = await rejection(activities.syncClerkCheckout(await store(event)));

      assert.equal(failure.type, 'ClerkRequestRejected');
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, new RegExp(`^404 while updating metadata of organization ${ids.organizationId}`));
      assert.match(failure.message, /resource_not_found/);
    });

    it('treats an unreachable Clerk as retryable ClerkUnavailable', async () => {
      const { event } = purchase(1_700_000_000);
      const unreachable = createClerkClient({ secretKey: CLERK_SECRET, apiUrl: 'http://127.0.0.1:1' });
      clerkFor = async () => unreachable;
      try {
        const failure = await rejection(activities.syncClerkCheckout(await store(event)));
        assert.equal(failure.type, 'ClerkUnavailable');
        assert.equal(failure.nonRetryable, false);
      } finally {
        const client = createClerkClient({ secretKey: CLERK_SECRET, apiUrl: clerk.url });
        clerkFor = async () => client;
      }
    });

    it('reports clerk_not_configured when the tenant has no Clerk, still caching the status', async () => {
      const { ids, event } = purchase(1_700_000_000);
      const saved = clerkFor;
      clerkFor = async () => null;
      try {
        assert.equal((await activities.syncClerkCheckout(await store(event))).outcome, 'clerk_not_configured');
        const orphan = subscriptionEvent('customer.subscription.updated', ids, 'active', 1_700_000_000);
        orphan.data.object.customer = uniqueId('cus');
        orphan.data.object.id = uniqueId('sub');
        assert.equal((await activities.syncClerkSubscription(await store(orphan))).outcome, 'clerk_not_configured');
      } finally {
        clerkFor = saved;
      }
      assert.deepEqual(clerkCalls(), []);
      const cached = await models.OrganizationSubscription.findOne({ organizationId: ids.organizationId }).lean();
      assert.equal(cached?.status, 'active');
    });
  });

  describe('failure mapper', () => {
    it('maps 503 with an HTTP-date Retry-After to a retryable failure delayed until that date', () => {
      const now = Date.parse('2026-01-01T00:00:00Z');
      const error = Object.assign(new Error('Service Unavailable'), {
        status: 503,
        headers: new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }),
      });
      const failure = toApplicationFailure(error, { service: 'Merchant', action: 'posting', now: () => now });
      assert.equal(failure.type, 'MerchantUnavailable');
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.nextRetryDelay, 30_000);
    });

    it('keeps 408 retryable and makes 401 non-retryable', () => {
      const timeout = toApplicationFailure({ status: 408 }, { service: 'Clerk', action: 'x' });
      const unauthorized = toApplicationFailure({ status: 401 }, { service: 'Clerk', action: 'x' });
      assert.equal(timeout.nonRetryable, false);
      assert.equal(unauthorized.nonRetryable, true);
      assert.equal(unauthorized.type, 'ClerkRequestRejected');
    });
  });

  describe('cases', () => {
    function disputeEvent(type: string, disputeId: string, status: string, created: number) {
      const dispute = stripeObject('dispute', { id: disputeId, status, amount: 4200, currency: 'eur' });
      return stripeEvent(type, dispute, { created });
    }

    it('opens, updates and resolves one dispute case with three history entries', async () => {
      const disputeId = uniqueId('dp');
      const caseId = `case_${disputeId}`;
      const created = await store(disputeEvent('charge.dispute.created', disputeId, 'needs_response', 1_700_000_000));
      const updated = await store(disputeEvent('charge.dispute.updated', disputeId, 'under_review', 1_700_000_100));
      const closed = await store(disputeEvent('charge.dispute.closed', disputeId, 'won', 1_700_000_200));

      const opened = await activities.applyDisputeCase(created);
      assert.equal(opened.outcome, 'case_opened');
      assert.deepEqual(
        opened.outbound.map((message) => [message.type, message.objectId]),
        [
          ['dispute.created', disputeId],
          ['case.created', caseId],
        ],
      );
      assert.deepEqual(opened.outbound[0]!.data, {
        caseId,
        disputeId,
        chargeId: 'ch_1PgafuB7WZ01zgkWXYmPNZs8',
        paymentIntentId: null,
        amount: 4200,
        currency: 'eur',
        reason: 'general',
        status: 'open',
        stripeStatus: 'needs_response',
        evidenceDueBy: new Date(1723679999 * 1000).toISOString(),
        occurredAt: new Date(1_700_000_000 * 1000).toISOString(),
      });
      const afterUpdate = await activities.applyDisputeCase(updated);
      assert.deepEqual(
        afterUpdate.outbound.map((message) => message.type),
        ['dispute.updated'],
      );
      const resolved = await activities.applyDisputeCase(closed);
      assert.equal(resolved.outcome, 'case_resolved');
      assert.deepEqual(
        resolved.outbound.map((message) => message.type),
        ['dispute.resolved'],
      );
      assert.equal(resolved.outbound[0]!.data.outcome, 'won');

      const again = await activities.applyDisputeCase(created);
      assert.deepEqual(again.outbound, opened.outbound, 'a re-run emits the same messages');
      assert.equal(again.outcome, 'stale');

      const cases = await models.Case.find({ stripeObjectId: disputeId }).lean();
      assert.equal(cases.length, 1);
      assert.equal(cases[0]!.caseId, caseId);
      assert.equal(cases[0]!.status, 'won');
      assert.equal(cases[0]!.kind, 'dispute');
      assert.equal(cases[0]!.evidenceDueBy?.getTime(), 1723679999 * 1000);
      assert.ok(cases[0]!.resolvedAt);
      assert.deepEqual(
        cases[0]!.history.map((entry) => [entry.type, entry.stripeStatus]),
        [
          ['charge.dispute.created', 'needs_response'],
          ['charge.dispute.updated', 'under_review'],
          ['charge.dispute.closed', 'won'],
        ],
      );
    });

    it('keeps a lost dispute lost when an older update arrives after the close', async () => {
      const disputeId = uniqueId('dp');
      await activities.applyDisputeCase(
        await store(disputeEvent('charge.dispute.closed', disputeId, 'lost', 1_700_000_200)),
      );
      const late = await activities.applyDisputeCase(
        await store(disputeEvent('charge.dispute.updated', disputeId, 'under_review', 1_700_000_100)),
      );

      assert.equal(late.outcome, 'stale');
      const found = await models.Case.findOne({ caseId: `case_${disputeId}` }).lean();
      assert.equal(found?.status, 'lost');
      assert.equal(found?.history.length, 2);
    });

    it('keeps one case with one history entry per event when its events run concurrently and twice', async () => {
      const disputeId = uniqueId('dp');
      const refs = await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          store(
            disputeEvent(
              index === 0 ? 'charge.dispute.created' : 'charge.dispute.updated',
              disputeId,
              'under_review',
              1_700_000_000 + index,
            ),
          ),
        ),
      );

      await Promise.all([...refs, ...refs].map((ref) => activities.applyDisputeCase(ref)));

      const cases = await models.Case.find({ stripeObjectId: disputeId }).lean();
      assert.equal(cases.length, 1);
      assert.equal(cases[0]!.history.length, 6);
      assert.equal(cases[0]!.watermarkEventId, refs[5]!.eventId);
    });

    it('opens one fraud case for an early fraud warning, however often it runs', async () => {
      const warning = stripeObject('radar.early_fraud_warning', { id: uniqueId('issfr') });
      const ref = await store(stripeEvent('radar.early_fraud_warning.created', warning));

      const first = await activities.openFraudCase(ref);
      const second = await activities.openFraudCase(ref);

      assert.equal(first.outcome, 'case_opened');
      assert.deepEqual(second, first);
      assert.deepEqual(
        first.outbound.map((message) => [message.type, message.objectId]),
        [['case.created', `case_${warning.id}`]],
      );
      const cases = await models.Case.find({ stripeObjectId: warning.id }).lean();
      assert.equal(cases.length, 1);
      assert.equal(cases[0]!.kind, 'fraud');
      assert.equal(cases[0]!.reason, 'misc');
      assert.equal(cases[0]!.chargeId, 'ch_1234');
      assert.equal(cases[0]!.history.length, 1);
    });
  });

  describe('payment sessions', () => {
    it('links a succeeded charge to the session named in its metadata', async () => {
      const sessionId = uniqueId('ps');
      const charge = stripeObject('charge', {
        id: uniqueId('ch'),
        payment_intent: 'pi_123',
        metadata: { shop_session: sessionId },
      });
      const ref = await store(stripeEvent('charge.succeeded', charge, { created: 1_700_000_000 }));

      const result = await activities.linkPaymentSession(ref);
      await activities.linkPaymentSession(ref);

      assert.equal(result.outcome, 'session_linked');
      assert.deepEqual(result.outbound, [
        {
          type: 'transaction.succeeded',
          objectId: charge.id,
          data: {
            sessionId,
            chargeId: charge.id,
            paymentIntentId: 'pi_123',
            customerId: null,
            amount: 100,
            currency: 'usd',
            failureCode: null,
            declineCode: null,
            status: 'succeeded',
            occurredAt: new Date(1_700_000_000 * 1000).toISOString(),
          },
        },
      ]);
      const session = await models.PaymentSession.findOne({ sessionId }).lean();
      assert.equal(session?.status, 'succeeded');
      assert.equal(session?.chargeId, charge.id);
      assert.equal(session?.history.length, 1);
    });

    it('marks the session failed on payment_intent.payment_failed, and reports no_session without one', async () => {
      const sessionId = uniqueId('ps');
      const intent = stripeObject('payment_intent', {
        id: uniqueId('pi'),
        metadata: { clausum_session_id: sessionId },
        last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' },
      });

      const result = await activities.failPaymentSession(
        await store(stripeEvent('payment_intent.payment_failed', intent)),
      );

      assert.equal(result.outcome, 'session_failed');
      assert.deepEqual(
        result.outbound.map((message) => [message.type, message.objectId, message.data.sessionId]),
        [['transaction.failed', intent.id, sessionId]],
      );
      const session = await models.PaymentSession.findOne({ sessionId }).lean();
      assert.equal(session?.status, 'failed');
      assert.equal(session?.declineCode, 'insufficient_funds');

      const anonymous = stripeObject('payment_intent', { id: uniqueId('pi'), metadata: {} });
      const orphan = await activities.failPaymentSession(
        await store(stripeEvent('payment_intent.payment_failed', anonymous)),
      );
      assert.equal(orphan.outcome, 'no_session');
      assert.equal(orphan.outbound[0]!.data.sessionId, null);
    });
  });

  describe('admin API', () => {
    const token = 'admin-token-0123456789abcdef';
    let server: Server;
    let baseUrl: string;

    before(async () => {
      const app = new Koa();
      app.use(errorHandler(createLogger('silent')));
      const router = createAdminApiRouter({ cases, paymentSessions, adminToken: token });
      app.use(router.routes()).use(router.allowedMethods());
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise((resolve) => server?.close(resolve));
    });

    async function get(path: string, headers: Record<string, string> = {}) {
      const response = await fetch(`${baseUrl}${path}`, { headers });
      return { status: response.status, body: (await response.json()) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    }

    it('answers 401 without the bearer token and the case with it', async () => {
      const warning = stripeObject('radar.early_fraud_warning', { id: uniqueId('issfr') });
      await activities.openFraudCase(await store(stripeEvent('radar.early_fraud_warning.created', warning)));
      const path = `/api/cases/case_${warning.id}`;

      const anonymous = await get(path);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'unauthorized');
      assert.equal((await get(path, { authorization: 'Bearer wrong-token-0123456789' })).status, 401);

      const allowed = await get(path, { authorization: `Bearer ${token}` });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.case.caseId, `case_${warning.id}`);
      assert.equal(allowed.body.case.tenantId, TENANT);
      assert.equal(allowed.body.case._id, undefined);

      const listed = await get(`/api/cases?kind=fraud&tenant=${TENANT}`, { authorization: `Bearer ${token}` });
      assert.ok(listed.body.cases.some((found: { caseId: string }) => found.caseId === `case_${warning.id}`));
      assert.equal((await get('/api/sessions/ps_missing', { authorization: `Bearer ${token}` })).status, 404);
    });

    it('is disabled with a clear 404 when no admin token is configured', async () => {
      const app = new Koa();
      app.use(errorHandler(createLogger('silent')));
      const router = createAdminApiRouter({ cases, paymentSessions, adminToken: null });
      app.use(router.routes());
      const disabled = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => disabled.once('listening', resolve));
      try {
        const response = await fetch(`http://127.0.0.1:${(disabled.address() as AddressInfo).port}/api/cases`);
        assert.equal(response.status, 404);
        assert.deepEqual(await response.json(), {
          error: {
            code: 'admin_api_disabled',
            message: 'The admin API is disabled: set HOOKFLOW_ADMIN_TOKEN to enable it.',
          },
        });
      } finally {
        await new Promise((resolve) => disabled.close(resolve));
      }
    });
  });
});
