import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connectDatabase, type Database } from '../src/db/connection';
import { FakeStripe } from '../src/fake-stripe/fake-stripe';
import { freePort } from '../src/stack/ports';
import { storeOptionsFromConfig } from '../src/stores';
import { caseIdFor } from '../src/stores/case-store';
import { thinEventFor, type ThinEventPair } from '../src/stripe/thin-events';
import { startFakeMerchant, type FakeMerchant } from './helpers/fake-merchant';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { runCli } from './helpers/run-cli';
import { FAKE_KEY, stripeEnv } from './helpers/stripe-api';
import {
  deliver,
  deliverEvent,
  signatureHeader,
  stripeEvent,
  stripeObject,
  uniqueId,
  type Delivery,
  type StripeObject,
} from './helpers/stripe-events';
import { runCli as runSupportCli, waitFor } from './helpers/support';

/**
 * Thin event notifications (`object: "v2.core.event"`) end to end on the real stack: verified with
 * the SDK's parseEventNotification, stored as received, the event and related object fetched by an
 * activity from the local fake Stripe API, then the same state and business path as the snapshot
 * event.
 */
describe('thin event notifications', function () {
  this.timeout(180_000);
  let fake: FakeStripe;
  let fakeUrl: string;
  let merchant: FakeMerchant;
  let hookflow: RunningHookflow;
  let keyless: RunningHookflow;
  /** Stores of `keyless` that can seal tenant secrets (HOOKFLOW_MASTER_KEY). */
  let keylessDb: Database;
  const tenant = `thin-${randomBytes(3).toString('hex')}`;
  const tenantSecret = 'whsec_thin_tenant_0123456789';
  const masterKey = randomBytes(32).toString('base64');

  before(async () => {
    fake = new FakeStripe();
    fakeUrl = await fake.listen();
    merchant = await startFakeMerchant(() => ({ status: 200 }));
    [hookflow, keyless] = await Promise.all([
      startHookflow({
        ...stripeEnv(fakeUrl),
        HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
        HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
      }),
      // No STRIPE_API_KEY: thin events of its stored tenant fail until the tenant gets a key.
      startHookflow({
        STRIPE_API_BASE: fakeUrl,
        STRIPE_API_TIMEOUT_SECONDS: '1',
        HOOKFLOW_MASTER_KEY: masterKey,
      }),
    ]);
    // The merchant endpoint is stored through stores that know HOOKFLOW_OUTBOUND_ALLOW (loopback).
    const db = await connectDatabase(hookflow.config.mongoUrl, storeOptionsFromConfig(hookflow.config));
    try {
      await db.stores.endpoints.create({ tenantId: 'default', url: merchant.url, eventTypes: ['*'] });
    } finally {
      await db.close();
    }
    keylessDb = await connectDatabase(keyless.config.mongoUrl, storeOptionsFromConfig(keyless.config));
    await keylessDb.stores.tenants.add({ tenantId: tenant, secrets: { sandbox: [tenantSecret] } });
  });
  after(async () => {
    await keylessDb?.close();
    await Promise.all([hookflow?.close(), keyless?.close()]);
    await merchant?.close();
    await fake?.close();
  });

  /** A thin notification for `type` about `object`, its event and object served by the fake. */
  function thinEvent(type: string, object: StripeObject, options: { context?: string } = {}): ThinEventPair {
    const pair = thinEventFor(stripeEvent(type, object), options);
    fake.addThinEvent(pair.event, object);
    return pair;
  }

  function deliverThin(url: string, pair: ThinEventPair, secret = SECRET_A): Promise<Delivery> {
    const body = JSON.stringify(pair.notification);
    return deliver(url, body, { 'stripe-signature': signatureHeader(body, secret) });
  }

  const stored = (target: RunningHookflow, eventId: string) => target.db.models.StripeEvent.findOne({ eventId }).lean();
  const stateOf = (objectId: string) => hookflow.db.models.ObjectState.findOne({ objectId }).lean();

  it('fetches a v1.customer.updated event and stores the customer like its snapshot twin', async () => {
    const thinCustomer = stripeObject('customer', { id: uniqueId('cus'), name: 'as the API has it' });
    const snapshotCustomer = { ...thinCustomer, id: uniqueId('cus') };
    const pair = thinEvent('customer.updated', thinCustomer);
    const snapshot = stripeEvent('customer.updated', snapshotCustomer);

    const answer = await deliverThin(hookflow.webhookUrl, pair);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, {
      received: true,
      eventId: pair.notification.id,
      workflowId: `stripe-event:default:${pair.notification.id}`,
      duplicate: false,
    });
    assert.equal((await deliverEvent(hookflow.webhookUrl, snapshot, SECRET_A)).status, 200);
    const [thinEvent_, snapshotEvent] = [
      await waitForEventStatus(hookflow, pair.notification.id),
      await waitForEventStatus(hookflow, snapshot.id),
    ];
    assert.equal(thinEvent_.status, 'processed', String(thinEvent_.error));
    assert.equal(thinEvent_.outcome, snapshotEvent.outcome);
    assert.equal(thinEvent_.outcome, 'applied');
    // The ledger keeps the notification as received, under the thin type and its object's id.
    assert.equal(thinEvent_.rawBody, JSON.stringify(pair.notification));
    assert.equal(thinEvent_.type, 'v1.customer.updated');
    assert.equal(thinEvent_.objectId, thinCustomer.id);
    assert.equal(thinEvent_.customerId, thinCustomer.id);

    const thinState = await stateOf(thinCustomer.id);
    const snapshotState = await stateOf(snapshotCustomer.id);
    const comparable = (row: NonNullable<typeof thinState>) => ({
      resource: row.resource,
      objectType: row.objectType,
      customerId: row.customerId === row.objectId ? 'itself' : row.customerId,
      account: row.account,
      deleted: row.deleted,
      lastEventType: row.lastEventType,
      changeType: row.changeType,
      livemode: row.livemode,
      source: row.source,
      watermarkEventId: row.watermarkEventId.startsWith('evt_') ? 'event id' : row.watermarkEventId,
      state: { ...(JSON.parse(row.state) as Record<string, unknown>), id: 'the object id' },
    });
    assert.deepEqual(comparable(thinState!), comparable(snapshotState!));
    assert.equal(thinState!.watermarkEventId, pair.notification.id);
    assert.equal(fake.count(new RegExp(`^/v2/core/events/${pair.notification.id}$`)), 1);
    assert.equal(fake.count(new RegExp(`^/v1/customers/${thinCustomer.id}$`)), 1);
  });

  it('opens the same case and sends the same outbound messages for v1.charge.dispute.created', async () => {
    const thinDispute = stripeObject('dispute', { id: uniqueId('dp'), amount: 4200, reason: 'fraudulent' });
    const snapshotDispute = { ...thinDispute, id: uniqueId('dp') };
    const pair = thinEvent('charge.dispute.created', thinDispute);
    const snapshot = stripeEvent('charge.dispute.created', snapshotDispute);
    assert.equal((await deliverThin(hookflow.webhookUrl, pair)).status, 200);
    assert.equal((await deliverEvent(hookflow.webhookUrl, snapshot, SECRET_A)).status, 200);
    assert.equal((await waitForEventStatus(hookflow, pair.notification.id)).outcome, 'case_opened');
    assert.equal((await waitForEventStatus(hookflow, snapshot.id)).outcome, 'case_opened');

    const caseOf = async (disputeId: string) => {
      const found = await hookflow.db.stores.cases.getCase(caseIdFor(disputeId), 'default');
      assert.ok(found, `a case for ${disputeId}`);
      return {
        kind: found.kind,
        status: found.status,
        amount: found.amount,
        currency: found.currency,
        reason: found.reason,
        chargeId: found.chargeId,
        lastEventType: found.lastEventType,
        history: found.history.map((entry) => entry.type),
      };
    };
    assert.deepEqual(await caseOf(thinDispute.id), await caseOf(snapshotDispute.id));
    assert.deepEqual((await caseOf(thinDispute.id)).history, ['charge.dispute.created']);

    const sentAbout = (disputeId: string) =>
      waitFor(`two messages about ${disputeId}`, async () => {
        const bodies = merchant.received
          .map((webhook) => JSON.parse(webhook.body) as { type: string; data: Record<string, unknown> })
          .filter((body) => body.data.disputeId === disputeId);
        return bodies.length >= 2 ? bodies : null;
      });
    const normalized = (bodies: Array<{ type: string; data: Record<string, unknown> }>) =>
      bodies
        .map(({ type, data }) => ({ type, data: { ...data, caseId: 'case', disputeId: 'dispute', occurredAt: 'at' } }))
        .sort((a, b) => a.type.localeCompare(b.type));
    const fromThin = normalized(await sentAbout(thinDispute.id));
    assert.deepEqual(fromThin, normalized(await sentAbout(snapshotDispute.id)));
    assert.deepEqual(
      fromThin.map((body) => body.type),
      ['case.created', 'dispute.created'],
    );
  });

  it('refuses a thin notification with a bad signature and stores nothing', async () => {
    const pair = thinEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
    const answer = await deliverThin(hookflow.webhookUrl, pair, 'whsec_not_the_endpoint_secret_0123');
    assert.equal(answer.status, 400);
    assert.equal((answer.body.error as { code: string }).code, 'invalid_signature');
    assert.equal(await stored(hookflow, pair.notification.id), null);
  });

  it('refuses a signed but malformed thin notification and stores nothing', async () => {
    const pair = thinEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
    const malformed = {
      ...pair.notification,
      created: 'yesterday',
      related_object: { ...pair.notification.related_object!, url: 'https://evil.example/v1/customers/x' },
    };
    const body = JSON.stringify(malformed);
    const answer = await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) });
    assert.equal(answer.status, 400);
    const error = answer.body.error as { code: string; message: string };
    assert.equal(error.code, 'not_an_event');
    assert.match(error.message, /thin event notification \(check: created, related_object\.url\)/);
    assert.equal(await stored(hookflow, pair.notification.id), null);
  });

  it('retries the fetch when the Stripe API answers 5xx, then processes the event', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus'), name: 'after the outage' });
    const pair = thinEvent('customer.updated', customer);
    fake.inject({ path: new RegExp(`^/v2/core/events/${pair.notification.id}$`), status: 503 });
    fake.inject({ path: new RegExp(`^/v1/customers/${customer.id}$`), status: 500 });
    assert.equal((await deliverThin(hookflow.webhookUrl, pair)).status, 200);
    const event = await waitForEventStatus(hookflow, pair.notification.id);
    assert.equal(event.status, 'processed', String(event.error));
    assert.equal(event.outcome, 'applied');
    assert.equal((JSON.parse((await stateOf(customer.id))!.state) as { name: string }).name, 'after the outage');
    // Each failing request was made again: two attempts of the event fetch, two of the customer.
    const answered = (path: RegExp) => fake.requests.filter((request) => path.test(request.path)).map((r) => r.status);
    assert.deepEqual(answered(new RegExp(`^/v2/core/events/${pair.notification.id}$`)), [503, 200, 200]);
    assert.deepEqual(answered(new RegExp(`^/v1/customers/${customer.id}$`)), [500, 200]);
  });

  it('answers a duplicate thin delivery with duplicate:true and fetches it once', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus') });
    const pair = thinEvent('customer.updated', customer);
    const first = await deliverThin(hookflow.webhookUrl, pair);
    assert.equal(first.body.duplicate, false);
    await waitForEventStatus(hookflow, pair.notification.id);
    const again = await deliverThin(hookflow.webhookUrl, pair);
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(again.body.workflowId, `stripe-event:default:${pair.notification.id}`);
    assert.equal(fake.count(new RegExp(`^/v2/core/events/${pair.notification.id}$`)), 1);
    assert.equal(await hookflow.db.models.StripeEvent.countDocuments({ eventId: pair.notification.id }), 1);
  });

  it('records the connected account of a thin event from its context and fetches in that context', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus') });
    const pair = thinEvent('customer.updated', customer, { context: 'acct_thin_1' });
    assert.equal((await deliverThin(hookflow.webhookUrl, pair)).status, 200);
    const event = await waitForEventStatus(hookflow, pair.notification.id);
    assert.equal(event.status, 'processed', String(event.error));
    assert.equal(event.account, 'acct_thin_1');
    assert.equal((await stateOf(customer.id))!.account, 'acct_thin_1');
    const fetches = fake.requests.filter((request) => request.path === `/v1/customers/${customer.id}`);
    assert.deepEqual(
      fetches.map((request) => request.account),
      ['acct_thin_1'],
    );
  });

  it('applies v1.product.deleted as a deletion when the API answers 404 for the product, like the snapshot twin', async () => {
    const product = stripeObject('product', { id: uniqueId('prod'), name: 'soon gone' });
    const twin = { ...product, id: uniqueId('prod') };
    const deletedAt = Math.floor(Date.now() / 1000) - 60;
    // Both products exist in the state table first, from an earlier snapshot event.
    for (const existing of [product, twin]) {
      const created = stripeEvent('product.created', existing, { created: deletedAt - 30 });
      assert.equal((await deliverEvent(hookflow.webhookUrl, created, SECRET_A)).status, 200);
      assert.equal((await waitForEventStatus(hookflow, created.id)).outcome, 'applied');
    }
    const pair = thinEventFor(stripeEvent('product.deleted', product, { created: deletedAt }));
    fake.addThinEvent(pair.event, null); // Stripe no longer has the product: 404 resource_missing.
    const snapshot = stripeEvent('product.deleted', twin, { created: deletedAt });
    assert.equal((await deliverThin(hookflow.webhookUrl, pair)).status, 200);
    assert.equal((await deliverEvent(hookflow.webhookUrl, snapshot, SECRET_A)).status, 200);
    const thin = await waitForEventStatus(hookflow, pair.notification.id);
    assert.equal(thin.status, 'processed', String(thin.error));
    assert.equal(thin.outcome, 'applied');
    assert.equal((await waitForEventStatus(hookflow, snapshot.id)).outcome, 'applied');
    const answered = fake.requests.filter((request) => request.path === `/v1/products/${product.id}`);
    assert.deepEqual(
      answered.map((request) => request.status),
      [404],
    );

    const rowOf = async (objectId: string) => {
      const row = await stateOf(objectId);
      assert.ok(row, `a state row for ${objectId}`);
      return row;
    };
    const comparable = (row: Awaited<ReturnType<typeof rowOf>>) => ({
      resource: row.resource,
      objectType: row.objectType,
      deleted: row.deleted,
      lastEventType: row.lastEventType,
      changeType: row.changeType,
      livemode: row.livemode,
      source: row.source,
      account: row.account,
      watermarkCreated: row.watermarkCreated,
    });
    const thinRow = await rowOf(product.id);
    assert.deepEqual(comparable(thinRow), comparable(await rowOf(twin.id)));
    assert.deepEqual(comparable(thinRow), {
      resource: 'product',
      objectType: 'product',
      deleted: true,
      lastEventType: 'product.deleted',
      changeType: 'deleted',
      livemode: false,
      source: 'webhook',
      account: null,
      watermarkCreated: deletedAt,
    });
    assert.equal(thinRow.watermarkEventId, pair.notification.id);
    // What the API says of a deleted object, in Stripe's shape for one.
    assert.deepEqual(JSON.parse(thinRow.state), { id: product.id, object: 'product', deleted: true });

    // The deletion's `created` is the watermark: an older change arriving late does not revive it.
    const late = stripeEvent('product.updated', { ...product, name: 'late' }, { created: deletedAt - 10 });
    assert.equal((await deliverEvent(hookflow.webhookUrl, late, SECRET_A)).status, 200);
    assert.equal((await waitForEventStatus(hookflow, late.id)).outcome, 'stale');
    assert.equal((await rowOf(product.id)).deleted, true);
  });

  it('fails a thin non-deletion whose object the API answers 404 at once, with the reason, without retrying', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus') });
    const pair = thinEventFor(stripeEvent('customer.updated', customer));
    fake.addThinEvent(pair.event, null);
    assert.equal((await deliverThin(hookflow.webhookUrl, pair)).status, 200);
    const failed = await waitForEventStatus(hookflow, pair.notification.id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.outcome, 'failed');
    assert.match(
      String(failed.error),
      new RegExp(
        `^StripeObjectMissing: customer ${customer.id} is not in the Stripe API \\(404 resource_missing at /v1/customers/${customer.id}\\); ` +
          `thin event ${pair.notification.id} \\(v1\\.customer\\.updated\\) has no object to apply\\.`,
      ),
    );
    assert.match(String(failed.error), new RegExp(`hookflow rerun ${pair.notification.id} --tenant default`));
    // One request: the failure is recorded after the activity's last attempt, and there was one.
    assert.equal(fake.count(new RegExp(`^/v1/customers/${customer.id}$`)), 1);
    assert.equal(await stateOf(customer.id), null);
  });

  it('stores a v2.core event without a v1 object as no_object, without calling the API', async () => {
    const id = `evt_test_${randomBytes(12).toString('hex')}`;
    const notification = {
      id,
      object: 'v2.core.event',
      type: 'v2.core.account.updated',
      created: new Date().toISOString(),
      livemode: false,
      related_object: { id: 'acct_v2_1', type: 'v2.core.account', url: '/v2/core/accounts/acct_v2_1' },
    };
    const body = JSON.stringify(notification);
    const answer = await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) });
    assert.equal(answer.status, 200);
    const event = await waitForEventStatus(hookflow, id);
    assert.equal(event.status, 'processed');
    assert.equal(event.outcome, 'no_object');
    assert.equal(fake.count(new RegExp(id)), 0);
  });

  it('fails visibly without an API key, and processes the event when re-run after a key is set', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus'), name: 'fetched after the key' });
    const pair = thinEvent('customer.updated', customer);
    const answer = await deliverThin(`${keyless.webhookUrl}/${tenant}?environment=sandbox`, pair, tenantSecret);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const failed = await waitForEventStatus(keyless, pair.notification.id);
    assert.equal(failed.status, 'failed');
    assert.match(
      String(failed.error),
      new RegExp(`^StripeApiKeyMissing: no Stripe API key \\(sandbox\\) for tenant ${tenant}: .*Set STRIPE_API_KEY`),
    );
    assert.match(String(failed.error), /hookflow tenants rotate-secret .* --stripe-api-key-file/);
    assert.equal(fake.count(new RegExp(pair.notification.id)), 0);

    await keylessDb.stores.tenants.setStripeApiKey(tenant, FAKE_KEY);
    const rerun = await runSupportCli(
      keyless,
      ['rerun', pair.notification.id, '--tenant', tenant, '--reason', 'Stripe API key set'],
      { HOOKFLOW_MASTER_KEY: masterKey },
    );
    assert.equal(rerun.code, 0, rerun.stderr);
    const processed = await waitFor('the re-run processed', async () => {
      const doc = await stored(keyless, pair.notification.id);
      return doc?.status === 'processed' ? doc : null;
    });
    assert.equal(processed.outcome, 'applied');
    const state = await keyless.db.models.ObjectState.findOne({ objectId: customer.id }).lean();
    assert.equal((JSON.parse(state!.state) as { name: string }).name, 'fetched after the key');
  });

  it('`hookflow trigger --thin` registers the event with the fake Stripe API and sends a signed notification', async () => {
    const run = await runCli([
      'trigger',
      '--thin',
      'v1.customer.updated',
      '--url',
      hookflow.webhookUrl,
      '--secret',
      SECRET_A,
      '--stripe-api-base',
      fakeUrl,
      '--set',
      'data.object.metadata.plan=pro',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const match = /^v1\.customer\.updated (evt_test_\w+) → 200 /m.exec(run.stdout);
    assert.ok(match, run.stdout);
    const event = await waitForEventStatus(hookflow, match[1]!);
    assert.equal(event.status, 'processed', String(event.error));
    assert.equal(event.outcome, 'applied');
    const state = await stateOf(event.objectId!);
    assert.equal(state!.lastEventType, 'customer.updated');
    assert.deepEqual((JSON.parse(state!.state) as { metadata: Record<string, unknown> }).metadata.plan, 'pro');
  });

  it('`hookflow trigger --thin` says how to start the fake when none answers', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const run = await runCli([
      'trigger',
      '--thin',
      'customer.updated',
      '--url',
      hookflow.webhookUrl,
      '--secret',
      SECRET_A,
      '--stripe-api-base',
      closed,
    ]);
    assert.equal(run.code, 1);
    assert.equal(run.errorLines.length, 1, run.stderr);
    assert.equal(
      run.errorLines[0],
      `hookflow trigger: no fake Stripe API answered (ECONNREFUSED): start \`npx hookflow fake-stripe\` in another terminal, or pass --stripe-api-base; tried ${closed}`,
    );
  });
});
