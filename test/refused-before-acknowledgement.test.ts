import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { signatureHeader, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';

/**
 * Issue 9: validly signed deliveries that Temporal or the worker could never handle were
 * acknowledged and then retried forever. Each is now refused with a precise 400 before anything is
 * stored — or, for a BOM, stored exactly as parsed and processed.
 */
describe('deliveries refused before acknowledgement', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  async function storedCount(eventId: string): Promise<number> {
    return hookflow.db.models.StripeEvent.countDocuments({ _id: `default:${eventId}` });
  }

  async function assertRefused(body: string | Buffer, code: string, eventId?: string, header?: string) {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    const response = await rawPost(hookflow.webhookUrl, body, {
      'content-type': 'application/json',
      'stripe-signature': header ?? signatureHeader(text, SECRET_A),
    });
    assert.equal(response.status, 400, `expected 400 ${code}, got ${response.status} ${response.text}`);
    assert.equal(response.json?.error?.code, code, response.text);
    if (eventId !== undefined) assert.equal(await storedCount(eventId), 0, 'nothing stored');
  }

  it('returns 400 event_id_invalid for an id whose workflow id would exceed Temporal’s 1,000-character limit', async () => {
    const id = `evt_${'a'.repeat(1_100)}`;
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }), { id });
    await assertRefused(JSON.stringify(event), 'event_id_invalid', id);
  });

  it('returns 400 invalid_unicode for an event id with a lone surrogate, which gRPC cannot encode', async () => {
    const id = `evt_${uniqueId('x')}\ud83d`;
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }), { id });
    await assertRefused(JSON.stringify(event), 'invalid_unicode', id);
  });

  it('returns 400 event_type_invalid for a 3,000-character type', async () => {
    const event = stripeEvent(`customer.${'x'.repeat(3_000)}`, stripeObject('customer', { id: uniqueId('cus') }));
    await assertRefused(JSON.stringify(event), 'event_type_invalid', event.id);
  });

  it('returns 400 object_id_invalid and customer_id_invalid for ids over the search-attribute limit', async () => {
    const long = stripeEvent('customer.created', stripeObject('customer', { id: `cus_${'x'.repeat(3_000)}` }));
    await assertRefused(JSON.stringify(long), 'object_id_invalid', long.id);
    const charge = stripeEvent(
      'charge.succeeded',
      stripeObject('charge', { id: uniqueId('ch'), customer: `cus_${'y'.repeat(2_100)}` }),
    );
    await assertRefused(JSON.stringify(charge), 'customer_id_invalid', charge.id);
  });

  it('returns 400 account_invalid for a connected account id with control characters or over the limit', async () => {
    const customer = () => stripeObject('customer', { id: uniqueId('cus') });
    const newline = { ...stripeEvent('customer.updated', customer()), account: 'acct_1\nforged' };
    await assertRefused(JSON.stringify(newline), 'account_invalid', newline.id);
    const long = { ...stripeEvent('customer.updated', customer()), account: `acct_${'z'.repeat(2_100)}` };
    await assertRefused(JSON.stringify(long), 'account_invalid', long.id);
  });

  it('returns 400 invalid_unicode for a lone surrogate anywhere in the event', async () => {
    const event = stripeEvent(
      'customer.created',
      stripeObject('customer', { id: uniqueId('cus'), metadata: { note: 'half an emoji \ud83d' } }),
    );
    const body = JSON.stringify(event);
    assert.match(body, /\\ud83d/, 'JSON.stringify escapes the lone surrogate, as a sender would');
    await assertRefused(body, 'invalid_unicode', event.id);
  });

  it('returns 400 too_deeply_nested for a data.object nested 10,000 levels', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus'), deep: 'DEEP' }));
    const body = JSON.stringify(event).replace('"DEEP"', `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`);
    assert.notEqual(body, JSON.stringify(event));
    await assertRefused(body, 'too_deeply_nested', event.id);
  });

  it('returns 400 invalid_utf8 for a body that is not UTF-8', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    const body = Buffer.concat([
      Buffer.from(JSON.stringify(event).slice(0, -1)),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('}'),
    ]);
    await assertRefused(body, 'invalid_utf8', event.id);
  });

  it('returns 400 malformed_signature_header for t=NaN or t=abc even with a matching HMAC', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    const body = JSON.stringify(event);
    for (const t of ['NaN', 'abc', '', '12x']) {
      const v1 = createHmac('sha256', SECRET_A).update(`${t}.${body}`).digest('hex');
      await assertRefused(body, 'malformed_signature_header', event.id, `t=${t},v1=${v1}`);
    }
  });

  it('stores a body that starts with a BOM without it, exactly as parsed, and processes it', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    const text = JSON.stringify(event);
    const response = await rawPost(
      hookflow.webhookUrl,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
      {
        'content-type': 'application/json',
        'stripe-signature': signatureHeader(text, SECRET_A),
      },
    );
    assert.equal(response.status, 200, response.text);
    const stored = await waitForEventStatus(hookflow, event.id);
    assert.equal(stored.status, 'processed', `processed, not retried forever (error: ${stored.error})`);
    assert.equal(stored.rawBody, text);
  });

  it('answers unknown methods with a JSON 405 and an Allow header', async () => {
    for (const method of ['PROPFIND', 'TRACE', 'DELETE']) {
      const response = await rawRequest(method, hookflow.webhookUrl, undefined, {});
      assert.equal(response.status, 405, `${method}: ${response.status} ${response.text}`);
      assert.equal(response.json?.error?.code, 'method_not_allowed');
      assert.match(String(response.headers.allow), /POST/);
    }
  });

  it('answers headers over Node’s limit with a JSON 431', async () => {
    const response = await rawRequest('POST', hookflow.webhookUrl, '{}', { 'x-padding': 'p'.repeat(40_000) });
    assert.equal(response.status, 431);
    assert.equal(response.json?.error?.code, 'headers_too_large');
  });
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: { error?: { code?: string } } | undefined;
}

function rawPost(url: string, body: string | Buffer, headers: Record<string, string>): Promise<RawResponse> {
  return rawRequest('POST', url, body, headers);
}

/** node:http rather than fetch: fetch refuses TRACE and cannot send a body's exact bytes with every method. */
export function rawRequest(
  method: string,
  url: string,
  body: string | Buffer | undefined,
  headers: Record<string, string>,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: RawResponse['json'];
        try {
          json = JSON.parse(text) as RawResponse['json'];
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
