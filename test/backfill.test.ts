import assert from 'node:assert/strict';
import type { BackfillRunProgress, ResourceProgress } from '../workflows/backfill-stripe';
import { BACKFILL_PROGRESS_QUERY, backfillResourceWorkflowId } from '../src/contracts';
import { FakeStripe, generated } from '../src/fake-stripe/fake-stripe';
import { deliverEvent, stripeEvent, stripeObject } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { runBackfill as startBackfill, stripeEnv } from './helpers/stripe-api';

describe('snapshot backfill', function () {
  this.timeout(180_000);
  let fake: FakeStripe;
  let hookflow: RunningHookflow;

  beforeEach(async () => {
    fake = new FakeStripe();
    hookflow = await startHookflow(stripeEnv(await fake.listen()));
  });
  afterEach(async () => {
    await hookflow?.close();
    await fake?.close();
  });

  const runBackfill = (on: RunningHookflow, resources: string[], options: { account?: string } = {}) =>
    startBackfill(on.temporal.client, on.config.temporal.taskQueue, resources, options);

  async function snapshotRows() {
    return hookflow.db.models.ObjectState.find({ tenantId: 'default' }).lean();
  }

  it('stores 1,000 objects of 3 resources exactly once with source snapshot, through a 429 and a page that times out', async () => {
    const now = Math.floor(Date.now() / 1000) - 60;
    const customers = fake.seed('customer', 420, { newest: now });
    // Subscriptions: every fifth one canceled — GET /v1/subscriptions leaves those out unless status=all.
    const subscriptions = Array.from({ length: 330 }, (_, index) =>
      generated('subscription', now - index, { status: index % 5 === 0 ? 'canceled' : 'active' }),
    );
    fake.add('subscription', subscriptions);
    const invoices = fake.seed('invoice', 250, { newest: now });
    fake.inject({ path: /^\/v1\/customers$/, nth: 2, status: 429 });
    fake.inject({ path: /^\/v1\/invoices$/, nth: 2, delayMs: 2_500 });

    const { handle, runId } = await runBackfill(hookflow, ['customer', 'subscription', 'invoice']);
    const result = await handle.result();
    assert.equal(result.state, 'completed');

    const rows = await snapshotRows();
    assert.equal(rows.length, 1_000, 'one row per object');
    assert.ok(
      rows.every((row) => row.source === 'snapshot'),
      'every row written by the snapshot',
    );
    const ids = new Set(rows.map((row) => row.objectId));
    for (const object of [...customers, ...subscriptions, ...invoices]) assert.ok(ids.has(object.id), object.id);
    const canceled = rows.filter((row) => (JSON.parse(row.state) as { status?: string }).status === 'canceled');
    assert.equal(canceled.length, 66, 'canceled subscriptions included');
    // Subscriptions share the state rows of their `customer.subscription.*` events.
    assert.equal(rows.filter((row) => row.objectType === 'subscription' && row.resource === 'customer').length, 330);

    // Pages: customers 5 (+1 answered 429), subscriptions 4, invoices 3 (+1 that timed out).
    assert.equal(fake.count(/^\/v1\/customers$/), 6);
    assert.equal(fake.count(/^\/v1\/subscriptions$/), 4);
    assert.ok(fake.count(/^\/v1\/subscriptions$/, (query) => query.get('status') === 'all') === 4, 'status=all');
    assert.equal(fake.count(/^\/v1\/invoices$/), 4);
    assert.equal(fake.requests.filter((request) => request.status === 429).length, 1);

    const customerProgress = await hookflow.temporal.client.workflow
      .getHandle(backfillResourceWorkflowId('default', runId, 'customer'))
      .query<ResourceProgress>(BACKFILL_PROGRESS_QUERY);
    assert.equal(customerProgress.objects, 420);
    assert.equal(customerProgress.pages, 5);
    assert.equal(customerProgress.state, 'completed');
    const runProgress = await handle.query<BackfillRunProgress>(BACKFILL_PROGRESS_QUERY);
    assert.deepEqual(
      runProgress.resources.map((entry) => entry.state),
      ['completed', 'completed', 'completed'],
    );
  });

  it('keeps the state of an event newer than the snapshot, and a later event wins over the snapshot', async () => {
    const now = Math.floor(Date.now() / 1000);
    const [kept, overtaken] = fake.seed('customer', 2, { newest: now - 100 });
    // An event created after the moment the snapshot will be taken, stored before its page is written
    // (the race a backfill running beside live webhooks has, made deterministic).
    const newer = stripeEvent(
      'customer.updated',
      stripeObject('customer', { id: kept!.id, name: 'from the newer event' }),
      {
        created: now + 30,
      },
    );
    assert.equal((await deliverEvent(hookflow.webhookUrl, newer, SECRET_A)).status, 200);
    await waitForEventStatus(hookflow, newer.id);
    const { handle } = await runBackfill(hookflow, ['customer']);
    const result = await handle.result();
    assert.equal(result.state, 'completed');

    const keptRow = await hookflow.db.models.ObjectState.findOne({ objectId: kept!.id }).lean();
    assert.equal(keptRow?.source, 'webhook');
    assert.equal((JSON.parse(keptRow!.state) as { name: string }).name, 'from the newer event');
    const progress = await hookflow.temporal.client.workflow
      .getHandle(backfillResourceWorkflowId('default', result.runId, 'customer'))
      .query<ResourceProgress>(BACKFILL_PROGRESS_QUERY);
    assert.equal(progress.stale, 1, 'the snapshot left the newer state alone');

    // An event older than the snapshot loses; one after it wins.
    const older = stripeEvent('customer.updated', stripeObject('customer', { id: overtaken!.id, name: 'stale' }), {
      created: now - 50,
    });
    const later = stripeEvent('customer.updated', stripeObject('customer', { id: overtaken!.id, name: 'later' }), {
      created: now + 60,
    });
    for (const event of [older, later]) {
      assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
      await waitForEventStatus(hookflow, event.id);
    }
    assert.equal((await hookflow.db.models.StripeEvent.findOne({ eventId: older.id }).lean())?.outcome, 'stale');
    const row = await hookflow.db.models.ObjectState.findOne({ objectId: overtaken!.id }).lean();
    assert.equal((JSON.parse(row!.state) as { name: string }).name, 'later');
    assert.equal(row?.source, 'webhook');
  });

  it('loads payment_method by walking the customers: each customer’s payment methods once, one request for a customer with none', async () => {
    const now = Math.floor(Date.now() / 1000) - 60;
    const [none, few, many] = fake.seed('customer', 3, { newest: now });
    const methodsOf = (customerId: string | null, count: number) =>
      Array.from({ length: count }, (_, index) => generated('payment_method', now - index, { customer: customerId }));
    const methods = [...methodsOf(few!.id, 2), ...methodsOf(many!.id, 130)];
    fake.add('payment_method', methods);
    // GET /v1/payment_methods lists Treasury flows' payment methods: a payments backfill does not read it.
    fake.add('payment_method', methodsOf(null, 4));
    // The second page of the 130 fails once: the retry repeats that request only.
    fake.inject({ path: new RegExp(`^/v1/customers/${many!.id}/payment_methods$`), nth: 2, status: 500 });

    const { handle, runId } = await runBackfill(hookflow, ['payment_method']);
    assert.equal((await handle.result()).state, 'completed');

    const rows = await snapshotRows();
    assert.equal(rows.length, 132, 'one row per payment method of a customer');
    assert.deepEqual(new Set(rows.map((row) => row.objectId)), new Set(methods.map((method) => method.id)));
    assert.ok(
      rows.every((row) => row.source === 'snapshot' && row.resource === 'payment_method'),
      'written by the snapshot under payment_method',
    );
    assert.equal(rows.filter((row) => row.customerId === many!.id).length, 130);

    assert.equal(fake.count(/^\/v1\/customers$/), 1, 'one customers page');
    assert.equal(fake.count(new RegExp(`^/v1/customers/${none!.id}/payment_methods$`)), 1, 'none: one request');
    assert.equal(fake.count(new RegExp(`^/v1/customers/${few!.id}/payment_methods$`)), 1);
    const manyRequests = fake.requests.filter(
      (request) => request.path === `/v1/customers/${many!.id}/payment_methods`,
    );
    assert.deepEqual(
      manyRequests.map((request) => [request.query.get('starting_after'), request.status]),
      [
        [null, 200],
        [methods[101]!.id, 500],
        [methods[101]!.id, 200],
      ],
      'two pages of 100, the failed second one read again from the same cursor',
    );
    assert.equal(fake.count(/^\/v1\/payment_methods$/), 0, 'the Treasury list is not read');

    const progress = await hookflow.temporal.client.workflow
      .getHandle(backfillResourceWorkflowId('default', runId, 'payment_method'))
      .query<ResourceProgress>(BACKFILL_PROGRESS_QUERY);
    assert.equal(progress.objects, 132);
    assert.equal(progress.pages, 5, 'the customers page and four payment method pages');
    assert.deepEqual(progress.cursor, {
      customersAfter: many!.id,
      lastCustomersPage: true,
      customers: [],
      after: null,
    });
  });

  it('sends Stripe-Account for a connected account and reads only its objects', async () => {
    fake.seed('product', 3, { account: 'acct_1' });
    fake.seed('product', 5);
    const { handle } = await runBackfill(hookflow, ['product'], { account: 'acct_1' });
    assert.equal((await handle.result()).state, 'completed');
    const rows = await snapshotRows();
    assert.equal(rows.length, 3);
    assert.ok(
      rows.every((row) => row.account === 'acct_1'),
      'rows carry the connected account',
    );
    assert.ok(fake.requests.length > 0 && fake.requests.every((request) => request.account === 'acct_1'));
  });

  it('fails the resource with Stripe’s reason when the key is refused, without retrying', async () => {
    const refusing = new FakeStripe({ requireAccount: 'acct_required' });
    const url = await refusing.listen();
    const other = await startHookflow(stripeEnv(url));
    try {
      const { handle } = await runBackfill(other, ['coupon']);
      await assert.rejects(handle.result(), (error: Error & { cause?: Error }) => {
        assert.match(
          error.cause?.message ?? '',
          /coupon failed \(403 while listing coupons.*Stripe-Account header must be acct_required/,
        );
        return true;
      });
      assert.equal(refusing.count(/^\/v1\/coupons$/), 1, 'a 403 is not retried');
    } finally {
      await other.close();
      await refusing.close();
    }
  });
});
