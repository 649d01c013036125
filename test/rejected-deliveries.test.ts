import assert from 'node:assert/strict';
import { deliver, deliverEvent, signatureHeader, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A, SECRET_B, startHookflow, type RunningHookflow } from './helpers/hookflow';

describe('rejected deliveries', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow({ WEBHOOK_BODY_LIMIT_BYTES: String(64 * 1024) });
  });
  after(async () => {
    await hookflow?.close();
  });

  function customerEventBody() {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    return { event, body: JSON.stringify(event) };
  }

  async function assertRejected(
    response: { status: number; body: Record<string, unknown> },
    status: number,
    code: string,
    eventId?: string,
  ) {
    assert.equal(response.status, status);
    const error = response.body.error as { code: string; message: string };
    assert.equal(error.code, code);
    assert.ok(error.message.length > 0, 'the error says what was wrong');
    if (eventId) assert.equal(await hookflow.db.models.StripeEvent.countDocuments({ eventId }), 0, 'nothing stored');
  }

  it('returns 400 invalid_signature when the signature was made with another secret', async () => {
    const { event, body } = customerEventBody();
    const header = signatureHeader(body, 'whsec_someone_else');
    await assertRejected(
      await deliver(hookflow.webhookUrl, body, { 'stripe-signature': header }),
      400,
      'invalid_signature',
      event.id,
    );
  });

  it('returns 400 invalid_signature when the body was changed after signing', async () => {
    const { event, body } = customerEventBody();
    const header = signatureHeader(body, SECRET_A);
    const tampered = body
      .replace('"livemode": false', '"livemode": true')
      .replace('"livemode":false', '"livemode":true');
    assert.notEqual(tampered, body);
    await assertRejected(
      await deliver(hookflow.webhookUrl, tampered, { 'stripe-signature': header }),
      400,
      'invalid_signature',
      event.id,
    );
  });

  it('returns 400 stale_signature when the timestamp is more than 300 s old', async () => {
    const { event, body } = customerEventBody();
    const header = signatureHeader(body, SECRET_A, Math.floor(Date.now() / 1000) - 301);
    await assertRejected(
      await deliver(hookflow.webhookUrl, body, { 'stripe-signature': header }),
      400,
      'stale_signature',
      event.id,
    );
  });

  it('returns 400 missing_signature when the Stripe-Signature header is absent', async () => {
    const { event, body } = customerEventBody();
    await assertRejected(await deliver(hookflow.webhookUrl, body, {}), 400, 'missing_signature', event.id);
  });

  it('returns 400 malformed_signature_header when the header has no timestamp or no v1 signature', async () => {
    const { event, body } = customerEventBody();
    for (const header of ['garbage', 'v1=abcdef', `t=${Math.floor(Date.now() / 1000)},v0=abcdef`]) {
      await assertRejected(
        await deliver(hookflow.webhookUrl, body, { 'stripe-signature': header }),
        400,
        'malformed_signature_header',
        event.id,
      );
    }
  });

  it('returns 400 invalid_json when a correctly signed body is not JSON', async () => {
    const body = '{"id": "evt_1", "object": "event", ';
    const response = await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) });
    await assertRejected(response, 400, 'invalid_json');
    assert.equal(await hookflow.db.models.StripeEvent.countDocuments({}), 0);
  });

  it('returns 400 not_an_event when correctly signed JSON is not a Stripe event', async () => {
    const customer = stripeObject('customer', { id: uniqueId('cus') });
    const body = JSON.stringify(customer);
    const response = await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) });
    await assertRejected(response, 400, 'not_an_event');
    assert.equal(await hookflow.db.models.StripeEvent.countDocuments({}), 0);
  });

  it('returns 413 body_too_large for a body over the configured limit', async () => {
    const event = stripeEvent(
      'customer.created',
      stripeObject('customer', { id: uniqueId('cus'), description: 'x'.repeat(70 * 1024) }),
    );
    const body = JSON.stringify(event);
    await assertRejected(
      await deliver(hookflow.webhookUrl, body, { 'stripe-signature': signatureHeader(body, SECRET_A) }),
      413,
      'body_too_large',
      event.id,
    );
  });

  it('returns 401 unknown_tenant for a tenant that is not configured', async () => {
    const { event, body } = customerEventBody();
    const url = `${hookflow.webhookUrl}?org_id=someone-else&environment=live`;
    await assertRejected(
      await deliver(url, body, { 'stripe-signature': signatureHeader(body, SECRET_A) }),
      401,
      'unknown_tenant',
      event.id,
    );
  });

  it('accepts deliveries signed with either secret during a rotation', async () => {
    for (const secret of [SECRET_A, SECRET_B]) {
      const { event } = customerEventBody();
      const response = await deliverEvent(hookflow.webhookUrl, event, secret);
      assert.equal(response.status, 200);
      assert.equal(await hookflow.db.models.StripeEvent.countDocuments({ eventId: event.id }), 1);
    }
  });

  it('accepts a header carrying several v1 signatures when one of them matches', async () => {
    const { event, body } = customerEventBody();
    const good = signatureHeader(body, SECRET_B);
    const bad = signatureHeader(body, 'whsec_retired_secret').split(',')[1]!;
    const response = await deliver(hookflow.webhookUrl, body, {
      'stripe-signature': `${good.split(',')[0]!},${bad},${good.split(',')[1]!}`,
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.eventId, event.id);
  });
});
