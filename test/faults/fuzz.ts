import { createHmac } from 'node:crypto';
import { stripeEvent, stripeObject } from '../../src/stripe/sample-events';
import { seededRandom } from './harness';

export interface FuzzRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
  /** accept: a valid event (2xx); refuse: any 4xx; either: anything but 5xx. */
  expect: 'accept' | 'refuse';
  eventId?: string;
}

/**
 * A seeded stream of hostile and valid requests: headers, signatures, encodings, truncated,
 * oversized and deeply nested bodies, invalid UTF-8, BOMs, extreme ids and types, unknown methods
 * and routes. The same seed gives the same requests (ids included), so a failure can be replayed.
 */
export function fuzzRequests(
  seed: number,
  count: number,
  secret: string,
  onSignature: (v1: string) => void,
  plant: { card: string; marker: string },
): FuzzRequest[] {
  const random = seededRandom(seed);
  const int = (max: number) => Math.floor(random() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const token = (length: number) =>
    Array.from({ length }, () => 'abcdefghijklmnopqrstuvwxyz0123456789'[int(36)]).join('');
  const now = () => Math.floor(Date.now() / 1000);

  const sign = (payload: string, t: string | number = now(), key = secret) => {
    const v1 = createHmac('sha256', key).update(`${t}.${payload}`).digest('hex');
    onSignature(v1);
    return `t=${t},v1=${v1}`;
  };

  let sequence = 0;
  const event = (overrides: Record<string, unknown> = {}, objectOverrides: Record<string, unknown> = {}) => {
    const id = `evt_fuzz${seed}_${sequence++}_${token(8)}`;
    const base = stripeEvent(
      pick(['customer.updated', 'customer.created', 'product.updated', 'invoice.paid']),
      stripeObject('customer', {
        id: `cus_${token(14)}`,
        metadata: { note: `card ${plant.card}`, marker: plant.marker },
        ...objectOverrides,
      }),
      { id },
    );
    return { ...base, ...overrides } as Record<string, unknown> & { id: string };
  };

  const json = { 'content-type': 'application/json' };
  const post = (
    kind: string,
    body: string | Buffer,
    headers: Record<string, string>,
    extra: Partial<FuzzRequest> = {},
  ) =>
    ({
      kind,
      method: 'POST',
      path: '/webhooks/stripe',
      headers: { ...json, ...headers },
      body,
      expect: 'refuse',
      ...extra,
    }) as FuzzRequest;
  const signedPost = (kind: string, body: string, extra: Partial<FuzzRequest> = {}) =>
    post(kind, body, { 'stripe-signature': sign(body) }, extra);

  const generators: Array<[number, () => FuzzRequest]> = [
    [
      60,
      () => {
        const e = event();
        const body = JSON.stringify(e, null, int(2) * 2);
        return signedPost('valid', body, { expect: 'accept', eventId: e.id });
      },
    ],
    [
      10,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        return post(
          'valid with BOM',
          Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]),
          {
            'stripe-signature': sign(body),
          },
          { expect: 'accept', eventId: e.id },
        );
      },
    ],
    [
      5,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        const good = sign(body);
        const header = `${good},${Array.from({ length: 1 + int(8) }, () => `v1=${token(64).replace(/[g-z]/g, 'a')}`).join(',')}`;
        return post(
          'valid among several v1',
          body,
          { 'stripe-signature': header },
          { expect: 'accept', eventId: e.id },
        );
      },
    ],
    [
      60,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        return post(
          'bad signature',
          body,
          { 'stripe-signature': sign(body, now(), `whsec_${token(20)}`) },
          { eventId: e.id },
        );
      },
    ],
    [
      40,
      () => {
        const e = event();
        return post('missing signature', JSON.stringify(e), {}, { eventId: e.id });
      },
    ],
    [
      80,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        const t = pick(['NaN', 'abc', '', '-1', '1e9', '0x10', ' 123', '12345678901234567890', 'Infinity']);
        const header = pick([
          `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`,
          'garbage',
          ',,,,',
          `t=${now()}`,
          `t=${now()},v1=`,
          `t=${now()},v0=${token(64)}`,
          `v1=${token(64)}`,
          `t=${now()},t=${now()},v1=${token(64)}`,
          `t=${now()},v1=${'z'.repeat(64)}`,
          '\u00e9t=1,v1=00',
        ]);
        return post('malformed signature header', body, { 'stripe-signature': header }, { eventId: e.id });
      },
    ],
    [
      30,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        return post(
          'stale signature',
          body,
          { 'stripe-signature': sign(body, now() - 301 - int(100_000)) },
          { eventId: e.id },
        );
      },
    ],
    [
      60,
      () => {
        const e = event();
        const full = JSON.stringify(e);
        return signedPost('truncated body', full.slice(0, 1 + int(full.length - 2)), { eventId: e.id });
      },
    ],
    [
      40,
      () =>
        signedPost(
          'not an event',
          pick([
            '[]',
            'null',
            '42',
            '"evt"',
            '{}',
            '{"id":"evt_1"}',
            '{"object":"event"}',
            'true',
            '[{"object":"event"}]',
          ]),
        ),
    ],
    [
      30,
      () => {
        const e = event({ livemode: pick(['yes', 1, null]), created: pick(['now', -1.5, null]) });
        return signedPost('wrong field types', JSON.stringify(e), { eventId: e.id });
      },
    ],
    [
      40,
      () => {
        const e = event({}, { nested: 'NEST' });
        const depth = 101 + int(20_000);
        const inner = pick([
          `${'['.repeat(depth)}${']'.repeat(depth)}`,
          `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`,
        ]);
        return signedPost('deeply nested', JSON.stringify(e).replace('"NEST"', inner), { eventId: e.id });
      },
    ],
    [
      40,
      () => {
        const e = event();
        const text = JSON.stringify(e);
        const at = 1 + int(text.length - 2);
        const bad = Buffer.from(pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80], [0x80]]));
        const body = Buffer.concat([Buffer.from(text.slice(0, at)), bad, Buffer.from(text.slice(at))]);
        return post('invalid UTF-8', body, { 'stripe-signature': sign(body.toString('utf8')) }, { eventId: e.id });
      },
    ],
    [
      40,
      () => {
        const e = event({}, { metadata: { note: pick(['\ud83d', '\udc00x', 'a\ud800'] as const) } });
        const where = int(2);
        const withId = where === 0 ? { ...e, id: `${e.id}\ud83d` } : e;
        return signedPost('lone surrogate', JSON.stringify(withId), { eventId: where === 0 ? undefined : e.id });
      },
    ],
    [
      60,
      () => {
        const id = pick([
          `evt_${'x'.repeat(256 + int(5_000))}`,
          '',
          'evt with space',
          'evt_\u00e9\u00e8',
          'evt_\ud83d\ude00',
          'evt:colon',
          'evt/slash',
          'evt_\u0000nul',
          `evt_${'9'.repeat(255)}a`,
        ]);
        const e = { ...event(), id };
        return signedPost('extreme event id', JSON.stringify(e));
      },
    ],
    [
      50,
      () => {
        const type = pick([
          `customer.${'x'.repeat(300 + int(3_000))}`,
          '',
          'Customer.Updated',
          'customer updated',
          'customer..updated',
          '.customer',
          'customer.\u00e9',
          '\u0000',
        ]);
        const e = event({ type });
        return signedPost('extreme event type', JSON.stringify(e), { eventId: e.id });
      },
    ],
    [
      40,
      () => {
        const long = `x${'y'.repeat(256 + int(4_000))}`;
        const e = pick([
          () => event({}, { id: `cus_${long}` }),
          () => event({}, { id: 'cus_\u0000' }),
          () => event({}, { object: 'charge', customer: `cus_${long}` }),
          () => event({}, { id: '' }),
        ])();
        return signedPost('extreme object or customer id', JSON.stringify(e), { eventId: e.id });
      },
    ],
    [
      4,
      () => {
        const e = event({}, { description: 'x'.repeat(1024 * 1024 + int(50_000)) });
        return signedPost('oversized body', JSON.stringify(e), { eventId: e.id });
      },
    ],
    [
      10,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        return post(
          'oversized headers',
          body,
          { 'stripe-signature': sign(body), 'x-fuzz': 'h'.repeat(17_000 + int(30_000)) },
          { eventId: e.id },
        );
      },
    ],
    [
      40,
      () => ({
        kind: 'unknown method',
        method: pick(['PROPFIND', 'TRACE', 'PUT', 'DELETE', 'PATCH', 'MKCOL', 'LOCK', 'OPTIONS_X']),
        path: pick(['/webhooks/stripe', '/healthz', '/metrics', '/webhooks/stripe/default']),
        headers: {},
        body: undefined,
        expect: 'refuse',
      }),
    ],
    [
      40,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        return {
          kind: 'unknown route',
          method: pick(['GET', 'POST']),
          path: pick([
            '/',
            '/nope',
            '/webhooks',
            '/webhooks/stripex',
            '/webhooks/stripe/default/extra',
            '/%ff',
            '/api/../etc/passwd',
            `/${token(500)}`,
          ]),
          headers: { ...json, 'stripe-signature': sign(body) },
          body: body,
          expect: 'refuse',
          eventId: e.id,
        } as FuzzRequest;
      },
    ],
    [
      40,
      () => {
        const e = event();
        const body = JSON.stringify(e);
        const query = pick([
          '?org_id=someone-else&environment=live',
          '?environment=bogus',
          `?org_id=${token(300)}&environment=sandbox`,
        ]);
        return {
          ...signedPost('tenant selection', body, { eventId: e.id }),
          path: `/webhooks/stripe${query}`,
          headers: { ...json, 'stripe-signature': sign(body) },
        };
      },
    ],
    [
      30,
      () => {
        const bytes = Buffer.from(Array.from({ length: 1 + int(2_000) }, () => int(256)));
        return post('random bytes', bytes, { 'stripe-signature': sign(bytes.toString('utf8')) });
      },
    ],
    [
      20,
      () => {
        const e = {
          id: `evt_${token(20)}`,
          object: 'v2.core.event',
          type: 'v1.billing.meter.no_meter_found',
          created: new Date().toISOString(),
          related_object: { id: 'mtr_1' },
        };
        return signedPost('thin event', JSON.stringify(e));
      },
    ],
  ];
  const total = generators.reduce((sum, [weight]) => sum + weight, 0);
  const requests: FuzzRequest[] = [];
  for (let index = 0; index < count; index++) {
    let roll = int(total);
    for (const [weight, generate] of generators) {
      if (roll < weight) {
        requests.push(generate());
        break;
      }
      roll -= weight;
    }
  }
  return requests;
}
