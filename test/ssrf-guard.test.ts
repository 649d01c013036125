import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import {
  assertUrlAllowed,
  OutboundDestinationRefused,
  parseAllowList,
  pinnedLookup,
  type ResolveHost,
} from '../src/outbound/ssrf-guard';

const NOTHING_ALLOWED = parseAllowList('');
const LOOPBACK_ALLOWED = parseAllowList('127.0.0.1/32');

/** A resolver that answers from a table, so no DNS query leaves the machine. */
function resolver(table: Record<string, string[]>): ResolveHost {
  return async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function assertRefused(url: string, reason: RegExp, options = {}, allow = NOTHING_ALLOWED) {
  await assert.rejects(assertUrlAllowed(url, allow, options), (error: unknown) => {
    assert.ok(error instanceof OutboundDestinationRefused, `expected OutboundDestinationRefused for ${url}`);
    assert.equal(error.name, 'OutboundDestinationRefused');
    assert.match(error.message, reason, `message for ${url}`);
    return true;
  });
}

describe('the outbound SSRF guard', () => {
  it('relies on WHATWG URL parsing to normalise every IPv4 notation to dotted decimal', () => {
    for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '0x7f000001', '017700000001', '127.0.0.1.']) {
      assert.match(new URL(`http://${host}/`).hostname, /^127\.0\.0\.1\.?$/, host);
    }
    assert.equal(new URL('http://[::ffff:127.0.0.1]/').hostname, '[::ffff:7f00:1]');
  });

  describe('refuses loopback in every notation', () => {
    const urls = [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://0x7f000001/',
      'http://0x7f.0x0.0x0.0x1/',
      'http://0177.0.0.1/',
      'http://017700000001/',
      'http://127.1/',
      'http://127.000.000.001/',
      'http://127.0.0.1./',
      'http://%31%32%37.0.0.1/',
      'http://127.255.255.254:8080/hook',
      'http://[::1]/',
      'https://[0:0:0:0:0:0:0:1]/',
    ];
    for (const url of urls) {
      it(`refuses ${url}`, () => assertRefused(url, /loopback/));
    }
  });

  describe('refuses IPv4 reached through IPv6', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://[::ffff:127.0.0.1]/', /loopback \(IPv4 127\.0\.0\.1 inside IPv6\)/],
      ['http://[::ffff:7f00:1]/', /loopback/],
      ['http://[0:0:0:0:0:ffff:10.1.2.3]/', /private/],
      ['http://[::ffff:169.254.169.254]/', /cloud metadata/],
      ['http://[64:ff9b::a00:1]/', /private \(IPv4 10\.0\.0\.1 inside IPv6\)/],
      ['http://[2002:c0a8:101::1]/', /private \(IPv4 192\.168\.1\.1 inside IPv6\)/],
      ['http://[::127.0.0.1]/', /reserved/],
    ];
    for (const [url, reason] of cases) {
      it(`refuses ${url}`, () => assertRefused(url, reason));
    }
  });

  describe('refuses private, shared, link-local, unique-local, multicast, unspecified and metadata addresses', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://10.0.0.1/', /10\.0\.0\.1 is private/],
      ['http://012.0.0.1/', /10\.0\.0\.1 is private/],
      ['http://167772161/', /10\.0\.0\.1 is private/],
      ['http://172.16.0.1/', /private/],
      ['http://172.31.255.255/', /private/],
      ['http://192.168.1.1/', /private/],
      ['http://0xc0a80101/', /192\.168\.1\.1 is private/],
      ['http://100.64.0.1/', /shared address space/],
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata/],
      ['http://2852039166/', /169\.254\.169\.254 is a cloud metadata address/],
      ['http://0xa9.0xfe.0xa9.0xfe/', /cloud metadata/],
      ['http://[fd00:ec2::254]/', /cloud metadata/],
      ['http://169.254.10.20/', /link-local/],
      ['http://[fe80::1]/', /link-local/],
      ['http://[fc00::1]/', /unique-local/],
      ['http://[fd12:3456:789a::1]/', /unique-local/],
      ['http://224.0.0.1/', /multicast/],
      ['http://[ff02::1]/', /multicast/],
      ['http://0.0.0.0/', /unspecified/],
      ['http://0/', /unspecified/],
      ['http://[::]/', /unspecified/],
      ['http://255.255.255.255/', /reserved|broadcast/],
    ];
    for (const [url, reason] of cases) {
      it(`refuses ${url}`, () => assertRefused(url, reason));
    }
  });

  it('refuses localhost, which the system resolver answers with loopback', async () => {
    await assertRefused('http://localhost:4000/hooks', /loopback \(localhost resolves to/);
  });

  it('refuses a hostname when any one of its addresses is private, even if another is public', async () => {
    const resolve = resolver({ 'merchant.example': ['93.184.215.14', '10.1.2.3'] });
    await assertRefused('https://merchant.example/hooks', /10\.1\.2\.3 is private \(merchant\.example resolves/, {
      resolve,
    });
  });

  it('refuses hostnames that do not resolve, non-http schemes and URLs with credentials', async () => {
    await assertRefused('https://unknown.example/', /DNS lookup failed \(ENOTFOUND\)/, { resolve: resolver({}) });
    await assertRefused('ftp://93.184.215.14/file', /only http and https/);
    await assertRefused('file:///etc/passwd', /only http and https/);
    await assertRefused('https://user:secret@93.184.215.14/', /credentials/);
    await assertRefused('not a url', /not a valid URL/);
  });

  it('accepts public addresses and hostnames whose every address is public', async () => {
    const literal = await assertUrlAllowed('https://93.184.215.14/hooks', NOTHING_ALLOWED);
    assert.deepEqual(literal.addresses, [{ address: '93.184.215.14', family: 4 }]);

    const resolve = resolver({ 'merchant.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    const target = await assertUrlAllowed('https://merchant.example/hooks', NOTHING_ALLOWED, { resolve });
    assert.equal(target.hostname, 'merchant.example');
    assert.equal(target.addresses.length, 2);
  });

  describe('with 127.0.0.1/32 allowed', () => {
    for (const url of [
      'http://127.0.0.1:8080/',
      'http://2130706433/',
      'http://0x7f.1/',
      'http://[::ffff:127.0.0.1]/',
    ]) {
      it(`accepts ${url}`, async () => {
        const target = await assertUrlAllowed(url, LOOPBACK_ALLOWED);
        assert.equal(target.addresses.length, 1);
      });
    }

    it('accepts localhost resolving to 127.0.0.1', async () => {
      const target = await assertUrlAllowed('http://localhost:4000/', LOOPBACK_ALLOWED, {
        resolve: resolver({ localhost: ['127.0.0.1'] }),
      });
      assert.deepEqual(target.addresses, [{ address: '127.0.0.1', family: 4 }]);
    });

    it('still refuses what the allow list does not cover', async () => {
      await assertRefused('http://127.0.0.2/', /loopback/, {}, LOOPBACK_ALLOWED);
      await assertRefused('http://[::1]/', /loopback/, {}, LOOPBACK_ALLOWED);
      await assertRefused('http://169.254.169.254/', /cloud metadata/, {}, LOOPBACK_ALLOWED);
    });
  });

  it('rejects an allow list entry that is not an address or CIDR', () => {
    assert.throws(() => parseAllowList('127.0.0.1/32, example.com'), /invalid CIDR "example\.com"/);
    assert.throws(() => parseAllowList('10.0.0.0/33'), /invalid CIDR/);
    assert.deepEqual(parseAllowList(' 10.0.0.0/8 , ::1 ').cidrs, ['10.0.0.0/8', '::1']);
  });

  it('pins the connection to the checked addresses and answers no other hostname', async () => {
    const target = await assertUrlAllowed('http://localhost/', LOOPBACK_ALLOWED, {
      resolve: resolver({ localhost: ['127.0.0.1'] }),
    });
    const lookup = pinnedLookup(target);
    const all = await new Promise((resolve, reject) =>
      lookup('localhost', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
    );
    assert.deepEqual(all, [{ address: '127.0.0.1', family: 4 }]);
    const one = await new Promise((resolve, reject) =>
      lookup('localhost', {}, (error, address, family) => (error ? reject(error) : resolve([address, family]))),
    );
    assert.deepEqual(one, ['127.0.0.1', 4]);
    await assert.rejects(
      new Promise((resolve, reject) =>
        lookup('rebound.example', {}, (error, address) => (error ? reject(error) : resolve(address))),
      ),
      OutboundDestinationRefused,
    );
  });
});
