import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { endpointsCommand } from '../src/cli/endpoints-command';
import { connectDatabase } from '../src/db/connection';
import type { EndpointView } from '../src/stores/endpoint-store';
import { bindOutboundModels } from '../src/stores/outbound-schemas';
import { testStack } from './setup/global-stack';

describe('hookflow endpoints (CLI)', () => {
  let env: NodeJS.ProcessEnv;

  before(() => {
    const suffix = randomBytes(4).toString('hex');
    env = {
      MONGO_URL: testStack().stack.mongoUrl(`hookflow_endpoints_cli_${suffix}`),
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('hex'),
      HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
    };
  });

  afterEach(() => {
    process.exitCode = undefined;
  });

  after(async () => {
    const db = await connectDatabase(env.MONGO_URL!);
    await db.connection.dropDatabase();
    await db.close();
  });

  async function run(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    await endpointsCommand({ env, write: (text) => out.push(text), writeError: (text) => err.push(text) })
      .exitOverride()
      .parseAsync(args, { from: 'user' });
    return { out: out.join(''), err: err.join(''), exitCode: process.exitCode };
  }

  it('adds an endpoint with a generated secret, lists it without the secret, disables, enables and rotates it', async () => {
    const added = await run(
      'add',
      '--tenant',
      'acme',
      '--url',
      'http://127.0.0.1:4000/hooks',
      '--events',
      'dispute.*,case.created',
      '--json',
    );
    const endpoint = JSON.parse(added.out) as EndpointView & { secret: string };
    assert.match(endpoint.endpointId, /^ep_[0-9a-f]{24}$/);
    assert.deepEqual(endpoint.eventTypes, ['dispute.*', 'case.created']);
    assert.match(endpoint.secret, /^whsec_/);
    assert.doesNotThrow(() => new Webhook(endpoint.secret), 'the generated secret is a valid Standard Webhooks secret');

    const listed = JSON.parse((await run('list', '--tenant', 'acme', '--json')).out) as EndpointView[];
    assert.deepEqual(
      listed.map((entry) => [entry.endpointId, entry.enabled]),
      [[endpoint.endpointId, true]],
    );
    assert.ok(!JSON.stringify(listed).includes('whsec_'), 'list never prints a secret');

    const disabled = JSON.parse((await run('disable', endpoint.endpointId, '--json')).out) as EndpointView;
    assert.equal(disabled.enabled, false);
    assert.equal(disabled.disabledReason, 'disabled by operator');
    const enabled = JSON.parse((await run('enable', endpoint.endpointId, '--json')).out) as EndpointView;
    assert.equal(enabled.enabled, true);
    assert.equal(enabled.disabledReason, null);

    const rotated = JSON.parse((await run('rotate-secret', endpoint.endpointId, '--json')).out) as { secret: string };
    assert.match(rotated.secret, /^whsec_/);
    assert.notEqual(rotated.secret, endpoint.secret);

    // The endpoint is addressed by `_id`, and each write released the endpoint's lock.
    const db = await connectDatabase(env.MONGO_URL!);
    try {
      const stored = await bindOutboundModels(db.connection)
        .OutboundEndpoint.findOne({ _id: endpoint.endpointId })
        .lean();
      assert.equal(stored?.endpointId, endpoint.endpointId);
      assert.equal(stored?.enabled, true);
      assert.ok(stored?.previousSecret, 'the rotation kept the previous secret');
      const locks = db.connection.collection<{ _id: string }>('locks');
      assert.equal(await locks.countDocuments({ _id: `endpoint:${endpoint.endpointId}` }), 0);
    } finally {
      await db.close();
    }
  });

  it('refuses to register a private or metadata destination and says why', async () => {
    for (const url of ['http://10.0.0.1/hooks', 'http://169.254.169.254/', 'http://0x7f.2/']) {
      const result = await run('add', '--tenant', 'acme', '--url', url, '--events', '*', '--json');
      assert.equal(result.exitCode, 1, url);
      assert.equal(result.out, '');
      assert.match(
        result.err,
        /^hookflow endpoints: refusing http:\/\/.* is (private|a cloud metadata address|loopback)/,
      );
      process.exitCode = undefined;
    }
  });

  it('refuses a malformed secret or event filter and an unknown endpoint id', async () => {
    const badSecret = await run(
      'add',
      '--tenant',
      'acme',
      '--url',
      'http://127.0.0.1/',
      '--events',
      '*',
      '--secret',
      'whsec_c2hvcnQ=',
    );
    assert.match(badSecret.err, /base64 of 24 to 64 random bytes/);
    const badFilter = await run('add', '--tenant', 'acme', '--url', 'http://127.0.0.1/', '--events', 'Dispute Created');
    assert.match(badFilter.err, /invalid event type filter/);
    const unknown = await run('disable', 'ep_missing');
    assert.match(unknown.err, /no endpoint ep_missing/);
    assert.equal(unknown.exitCode, 1);
  });
});
