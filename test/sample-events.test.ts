import assert from 'node:assert/strict';
import { exampleObject, findResourceForEventType, stripeObject } from '../src/stripe/sample-events';

type Json = Record<string, unknown>;

/** Every number under a key in `keys`, by path, so an example object and its fixture line up. */
function numbersAt(object: unknown, path = ''): Map<string, number> {
  const found = new Map<string, number>();
  if (Array.isArray(object)) {
    object.forEach((item, index) =>
      numbersAt(item, `${path}[${index}]`).forEach((value, key) => found.set(key, value)),
    );
  } else if (object !== null && typeof object === 'object') {
    for (const [key, value] of Object.entries(object)) {
      const inner = path ? `${path}.${key}` : key;
      if (typeof value === 'number') found.set(inner, value);
      else numbersAt(value, inner).forEach((number, innerKey) => found.set(innerKey, number));
    }
  }
  return found;
}

describe('example objects for hookflow trigger', () => {
  const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
  const nowSeconds = NOW / 1000;
  const MONTH = 30 * 24 * 3600;

  it('dates the object now and keeps every other timestamp within a month, in the fixture order', () => {
    for (const resource of ['dispute', 'subscription', 'invoice', 'checkout.session', 'charge']) {
      const fixture = numbersAt(stripeObject(resource));
      const example = numbersAt(exampleObject(resource, {}, NOW));
      assert.equal(example.get('created'), nowSeconds, `${resource}.created is now`);
      const shifted = [...example].filter(([path, value]) => value !== fixture.get(path));
      assert.ok(shifted.length > 0, `${resource}: some timestamps moved`);
      for (const [path, value] of shifted) {
        assert.ok(Math.abs(value - nowSeconds) <= MONTH, `${resource}.${path} = ${value} is within a month of now`);
      }
      // Order between any two moved timestamps is the fixture's (ties may stay ties).
      for (const [a, valueA] of shifted) {
        for (const [b, valueB] of shifted) {
          if (fixture.get(a)! < fixture.get(b)!) assert.ok(valueA <= valueB, `${resource}: ${a} stays before ${b}`);
        }
      }
      // Amounts and counts are not timestamps: untouched.
      for (const path of ['amount', 'amount_total', 'amount_due', 'attempt_count']) {
        if (fixture.has(path)) assert.equal(example.get(path), fixture.get(path), `${resource}.${path}`);
      }
    }
  });

  it('puts a dispute evidence deadline after the dispute opened, not fifteen years later', () => {
    const dispute = exampleObject('dispute', {}, NOW) as unknown as Json & { evidence_details: { due_by: number } };
    assert.ok(dispute.evidence_details.due_by > nowSeconds);
    assert.ok(dispute.evidence_details.due_by - nowSeconds < MONTH);
  });

  it('gives every id a fresh random part with the same prefix, one new id per original', () => {
    const fixture = stripeObject('subscription') as unknown as Json & { id: string; items: { data: Array<Json> } };
    const first = exampleObject('subscription', {}, NOW) as unknown as typeof fixture;
    const second = exampleObject('subscription', {}, NOW) as unknown as typeof fixture;
    assert.match(first.id, /^sub_[A-Za-z0-9]+$/);
    assert.notEqual(first.id, fixture.id);
    assert.notEqual(first.id, second.id);
    assert.equal(first.id.length, fixture.id.length);
    // The item refers to its subscription: the reference follows the new id.
    if (fixture.items.data[0]?.subscription === fixture.id) assert.equal(first.items.data[0]?.subscription, first.id);
    assert.equal(first.object, 'subscription');
    assert.equal(first.status, fixture.status);
  });

  it('applies --object overrides as given, after the refresh', () => {
    const customer = exampleObject('customer', { id: 'cus_mine', created: 1_700_000_000, metadata: { a: 'b' } }, NOW);
    assert.equal(customer.id, 'cus_mine');
    assert.equal(customer.created, 1_700_000_000);
    assert.deepEqual(customer.metadata, { a: 'b' });
  });

  it('leaves stripeObject (the tests’ builder) on the fixture values', () => {
    assert.equal(stripeObject('dispute').created, 1234567890);
    assert.equal(stripeObject('dispute').id, 'dp_1Pgc71B7WZ01zgkWMevJiAUx');
  });

  it('finds the example object of an event type, and none for a type without one', () => {
    assert.equal(findResourceForEventType('checkout.session.completed'), 'checkout.session');
    assert.equal(findResourceForEventType('customer.subscription.updated'), 'subscription');
    assert.equal(findResourceForEventType('nonsense'), null);
    assert.equal(findResourceForEventType('nonsense.created'), null);
  });
});
