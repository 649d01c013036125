import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { openStores, storeOptionsFromConfig } from '../src/stores';
import type { TenantStore } from '../src/stores/tenant-store';
import { SECRET_A, startHookflow, type RunningHookflow } from './helpers/hookflow';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';

const TENANT_A = randomUUID();
const TENANT_B = 'acme-shop';
const A_LIVE = 'whsec_tenant_a_live_0a1b2c3d4e5f6a7b';
const A_SANDBOX = 'whsec_tenant_a_sandbox_9f8e7d6c5b4a3f2e';
const B_LIVE = 'whsec_tenant_b_live_1122334455667788';
const B_API_KEY = `hfk_${randomBytes(32).toString('base64url')}`;

describe('a multi-tenant receiver', () => {
  let hookflow: RunningHookflow;
  let store: TenantStore;

  before(async () => {
    // Cache window 0: each test changes tenants and delivers straight away; the window itself is
    // covered in tenants.test.ts.
    hookflow = await startHookflow({
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
      HOOKFLOW_TENANT_CACHE_SECONDS: '0',
    });
    store = openStores(hookflow.db.connection, storeOptionsFromConfig(hookflow.config)).stores.tenants;
    await store.add({ tenantId: TENANT_A, secrets: { live: [A_LIVE], sandbox: [A_SANDBOX] } });
    await store.add({ tenantId: TENANT_B, secrets: { live: [B_LIVE] }, apiKey: B_API_KEY });
  });
  after(async () => {
    await hookflow?.close();
  });

  const urlFor = (tenant: string, query: Record<string, string>) =>
    `${hookflow.webhookUrl}?${new URLSearchParams({ org_id: tenant, ...query }).toString()}`;
  /** Live-mode by default: most deliveries here go to `environment=live`. */
  const customerEvent = (livemode = true) =>
    stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }), { livemode });
  const storedCount = (eventId: string) => hookflow.db.models.StripeEvent.countDocuments({ eventId });

  it("accepts a tenant's delivery signed with its own secret and files it under that tenant", async () => {
    const event = customerEvent();
    const response = await deliverEvent(urlFor(TENANT_A, { environment: 'live' }), event, A_LIVE);
    assert.equal(response.status, 200);
    assert.equal(response.body.workflowId, `stripe-event:${TENANT_A}:${event.id}`);
    const stored = await hookflow.db.models.StripeEvent.findOne({ eventId: event.id }).lean();
    assert.equal(stored?.tenantId, TENANT_A);

    const viaPath = customerEvent(false);
    const pathResponse = await deliverEvent(
      `${hookflow.webhookUrl}/${TENANT_A}?environment=sandbox`,
      viaPath,
      A_SANDBOX,
    );
    assert.equal(pathResponse.status, 200);
    assert.equal(pathResponse.body.workflowId, `stripe-event:${TENANT_A}:${viaPath.id}`);
  });

  it("refuses a delivery for tenant B signed with tenant A's secret and stores nothing", async () => {
    const event = customerEvent();
    const response = await deliverEvent(urlFor(TENANT_B, { environment: 'live', api_key: B_API_KEY }), event, A_LIVE);
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error, {
      code: 'invalid_signature',
      message: "No signature in Stripe-Signature matches this endpoint's signing secret.",
    });
    assert.equal(await storedCount(event.id), 0);
  });

  it('verifies a sandbox delivery only with sandbox secrets and a live one only with live secrets', async () => {
    const sandboxSignedToLive = customerEvent();
    const toLive = await deliverEvent(urlFor(TENANT_A, { environment: 'live' }), sandboxSignedToLive, A_SANDBOX);
    assert.equal(toLive.status, 400);
    assert.equal(await storedCount(sandboxSignedToLive.id), 0);

    const liveSignedToSandbox = customerEvent();
    const toSandbox = await deliverEvent(urlFor(TENANT_A, { environment: 'sandbox' }), liveSignedToSandbox, A_LIVE);
    assert.equal(toSandbox.status, 400);
    assert.equal(await storedCount(liveSignedToSandbox.id), 0);

    const noEnvironment = customerEvent();
    const missing = await deliverEvent(urlFor(TENANT_A, {}), noEnvironment, A_LIVE);
    assert.equal(missing.status, 400);
    assert.equal((missing.body.error as { code: string }).code, 'missing_environment');
    assert.equal(await storedCount(noEnvironment.id), 0);
  });

  it('refuses an event whose livemode contradicts the environment it was delivered to', async () => {
    const testModeEvent = customerEvent(false);
    const response = await deliverEvent(urlFor(TENANT_A, { environment: 'live' }), testModeEvent, A_LIVE);
    assert.equal(response.status, 400);
    assert.equal((response.body.error as { code: string }).code, 'environment_mismatch');
    assert.equal(await storedCount(testModeEvent.id), 0);
  });

  it('answers 401 for an unknown tenant and for a missing or wrong api key', async () => {
    const event = customerEvent();
    const unknown = await deliverEvent(urlFor('no-such-tenant', { environment: 'live' }), event, B_LIVE);
    assert.equal(unknown.status, 401);
    assert.equal((unknown.body.error as { code: string }).code, 'unknown_tenant');

    const missingKey = await deliverEvent(urlFor(TENANT_B, { environment: 'live' }), event, B_LIVE);
    assert.equal(missingKey.status, 401);
    assert.equal((missingKey.body.error as { code: string }).code, 'invalid_api_key');

    const wrongKey = await deliverEvent(
      urlFor(TENANT_B, { environment: 'live', api_key: `${B_API_KEY}x` }),
      event,
      B_LIVE,
    );
    assert.equal(wrongKey.status, 401);
    assert.equal((wrongKey.body.error as { code: string }).code, 'invalid_api_key');
    assert.equal(await storedCount(event.id), 0);

    const rightKey = await deliverEvent(urlFor(TENANT_B, { environment: 'live', api_key: B_API_KEY }), event, B_LIVE);
    assert.equal(rightKey.status, 200);
    assert.equal(rightKey.body.workflowId, `stripe-event:${TENANT_B}:${event.id}`);
  });

  it('accepts both the old and the new secret during a rotation, and only the new one after the old is removed', async () => {
    const tenantId = 'rotating-shop';
    const oldSecret = 'whsec_rotation_old_aaaaaaaaaaaaaaaa';
    const newSecret = 'whsec_rotation_new_bbbbbbbbbbbbbbbb';
    await store.add({ tenantId, secrets: { live: [oldSecret] } });
    const url = urlFor(tenantId, { environment: 'live' });

    await store.rotateSecret(tenantId, 'live', newSecret);
    assert.equal((await deliverEvent(url, customerEvent(), oldSecret)).status, 200);
    assert.equal((await deliverEvent(url, customerEvent(), newSecret)).status, 200);

    await store.rotateSecret(tenantId, 'live', newSecret, { keep: 1 });
    const signedWithOld = customerEvent();
    assert.equal((await deliverEvent(url, signedWithOld, oldSecret)).status, 400);
    assert.equal(await storedCount(signedWithOld.id), 0);
    assert.equal((await deliverEvent(url, customerEvent(), newSecret)).status, 200);
  });

  it('keeps working in single-tenant mode for deliveries that name no tenant or the default one', async () => {
    const unnamed = customerEvent();
    const response = await deliverEvent(hookflow.webhookUrl, unnamed, SECRET_A);
    assert.equal(response.status, 200);
    assert.equal(response.body.workflowId, `stripe-event:default:${unnamed.id}`);

    const named = customerEvent();
    const namedResponse = await deliverEvent(urlFor('default', {}), named, SECRET_A);
    assert.equal(namedResponse.status, 200);

    const tenantSecretForDefault = customerEvent();
    assert.equal((await deliverEvent(hookflow.webhookUrl, tenantSecretForDefault, A_LIVE)).status, 400);
    assert.equal(await storedCount(tenantSecretForDefault.id), 0);
  });

  it('keeps no plaintext secret or api key in any collection of the database', async () => {
    const db = hookflow.db.connection.db!;
    const collections = await db.listCollections().toArray();
    assert.ok(collections.some((collection) => collection.name === 'tenants'));
    assert.ok(collections.some((collection) => collection.name === 'stripe_events'));
    const plaintexts = [
      A_LIVE,
      A_SANDBOX,
      B_LIVE,
      B_API_KEY,
      'whsec_rotation_old_aaaaaaaaaaaaaaaa',
      'whsec_rotation_new_bbbbbbbbbbbbbbbb',
    ];
    let scanned = 0;
    for (const { name } of collections) {
      for (const document of await db.collection(name).find().toArray()) {
        const raw = JSON.stringify(document);
        scanned++;
        for (const plaintext of plaintexts) {
          assert.ok(!raw.includes(plaintext), `a plaintext secret is stored in ${name}`);
        }
      }
    }
    assert.ok(scanned >= 5, `scanned ${scanned} documents`);
  });
});
