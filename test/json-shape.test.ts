import assert from 'node:assert/strict';
import { AppError } from '../src/errors';
import { checkJsonShape } from '../src/stripe/event-limits';

/**
 * checkJsonShape skips the per-string Unicode check when the text it was parsed from has no
 * surrogate escape (the receiver's hot path). These pin that the shortcut never lets a lone
 * surrogate or a too-deep body through, whatever the text looks like.
 */
describe('checkJsonShape', () => {
  function refusal(text: string, withText = true): string | null {
    try {
      checkJsonShape(JSON.parse(text) as unknown, withText ? text : undefined);
      return null;
    } catch (error) {
      assert.ok(error instanceof AppError, `unexpected ${String(error)}`);
      return error.code;
    }
  }

  it('refuses a lone surrogate escape in a value or a key, in either case of hex digit', () => {
    assert.equal(refusal('{"data":{"name":"\\ud83d"}}'), 'invalid_unicode');
    assert.equal(refusal('{"data":{"name":"\\uDE00 trailing"}}'), 'invalid_unicode');
    assert.equal(refusal('{"data":{"\\uD83D":"value"}}'), 'invalid_unicode');
    assert.equal(refusal('{"list":["ok",["\\udbff"]]}'), 'invalid_unicode');
  });

  it('accepts a surrogate pair and an escaped backslash before "u" (no surrogate at all)', () => {
    assert.equal(refusal('{"emoji":"\\ud83d\\ude00","path":"C:\\\\ud83d"}'), null);
    assert.equal(refusal('{"plain":"no escapes at all","n":1,"nested":{"a":[true,null]}}'), null);
  });

  it('refuses nesting deeper than 100 levels whether or not the text has escapes', () => {
    const deep = `${'['.repeat(101)}${']'.repeat(101)}`;
    assert.equal(refusal(deep), 'too_deeply_nested');
    assert.equal(refusal(`{"a":${'{"b":'.repeat(100)}1${'}'.repeat(100)}}`), 'too_deeply_nested');
    assert.equal(refusal(`${'['.repeat(100)}${']'.repeat(100)}`), null, '100 levels are allowed');
  });

  it('checks every string when not given the text (values built in code)', () => {
    const built = { data: { object: { name: 'ok', list: ['fine', '\uD83D'] } } };
    assert.throws(
      () => checkJsonShape(built),
      (error: unknown) => (error as AppError).code === 'invalid_unicode',
    );
    assert.equal(refusal('{"name":"\\ud83d"}', false), 'invalid_unicode');
  });
});
