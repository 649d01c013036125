import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import mongoose, { type Connection } from 'mongoose';
import { tenantsCommand } from '../src/cli/tenants-command';
import { ConfigError, loadConfig, requireMasterKey } from '../src/config';
import { AppError } from '../src/errors';
import { MasterKey } from '../src/tenants/master-key';
import { createSecretBox, SecretBoxError } from '../src/tenants/secret-box';
import { ensureStoreIndexes } from '../src/stores';
import { createTenantStore, TenantStoreError, type TenantStore } from '../src/stores/tenant-store';
import { createTenantResolver } from '../src/tenants/tenant-resolver';
import { testStack } from './setup/global-stack';

const MASTER_KEY_B64 = randomBytes(32).toString('base64');
const masterKey = MasterKey.parse(MASTER_KEY_B64);
const LIVE_SECRET = 'whsec_live_3f9a1c0e7b5d2a4c6e8f0a1b2c3d';
const SANDBOX_SECRET = 'whsec_sandbox_8e7d6c5b4a39281706f5e4d3c2b1';

describe('the secret box', () => {
  const box = createSecretBox(masterKey);

  it('seals into a versioned string without the plaintext and opens it again', () => {
    const sealed = box.seal(LIVE_SECRET, 'ctx');
    assert.match(sealed, /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    assert.ok(!sealed.includes(LIVE_SECRET.slice(6)));
    assert.equal(box.open(sealed, 'ctx'), LIVE_SECRET);
  });

  it('uses a fresh IV per seal, so equal secrets do not look equal at rest', () => {
    assert.notEqual(box.seal(LIVE_SECRET), box.seal(LIVE_SECRET));
  });

  it('refuses to open under another context, another key or after tampering', () => {
    const sealed = box.seal(LIVE_SECRET, 'stripe-webhook-secret:tenant-a:live');
    assert.throws(() => box.open(sealed, 'stripe-webhook-secret:tenant-b:live'), SecretBoxError);
    const otherBox = createSecretBox(MasterKey.parse(randomBytes(32).toString('hex')));
    assert.throws(() => otherBox.open(sealed, 'stripe-webhook-secret:tenant-a:live'), /HOOKFLOW_MASTER_KEY/);
    const [version, iv, tag, ciphertext] = sealed.split(':') as [string, string, string, string];
    const flipped = Buffer.from(ciphertext, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    const tampered = [version, iv, tag, flipped.toString('base64')].join(':');
    assert.throws(() => box.open(tampered, 'stripe-webhook-secret:tenant-a:live'), SecretBoxError);
    assert.throws(() => box.open('v2:a:b:c'), /format v1/);
  });
});

describe('HOOKFLOW_MASTER_KEY', () => {
  it('is accepted as base64 or hex of 32 bytes and never printed', () => {
    const bytes = randomBytes(32);
    assert.deepEqual(MasterKey.parse(bytes.toString('hex')).bytes(), bytes);
    assert.deepEqual(MasterKey.parse(bytes.toString('base64url')).bytes(), bytes);
    const config = loadConfig({ HOOKFLOW_MASTER_KEY: bytes.toString('base64') });
    const printed = JSON.stringify(config) + inspect(config, { depth: 10 }) + String(config.tenants.masterKey);
    assert.ok(!printed.includes(bytes.toString('base64')) && !printed.includes(bytes.toString('hex')));
    assert.match(printed, /\[redacted\]/);
  });

  it('names the variable and the fix when it has the wrong length', () => {
    assert.throws(
      () => loadConfig({ HOOKFLOW_MASTER_KEY: randomBytes(16).toString('base64') }),
      (error: unknown) =>
        error instanceof ConfigError && /HOOKFLOW_MASTER_KEY/.test(error.message) && /openssl rand/.test(error.message),
    );
  });

  it('is required, with a clear error, once tenants are used', () => {
    assert.throws(
      () => requireMasterKey(loadConfig({})),
      (error: unknown) => error instanceof ConfigError && /HOOKFLOW_MASTER_KEY is not set/.test(error.message),
    );
  });
});

describe('the tenant store', () => {
  let connection: Connection;
  let store: TenantStore;
  const box = createSecretBox(masterKey);

  before(async () => {
    connection = await mongoose
      .createConnection(testStack().stack.mongoUrl(`tenants_${randomBytes(4).toString('hex')}`))
      .asPromise();
    store = createTenantStore(connection, { secretBox: box, reservedTenantIds: ['default'] });
    await ensureStoreIndexes(connection);
  });
  after(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  it('adds a tenant and lists it with its secrets masked', async () => {
    const tenantId = randomUUID();
    const apiKey = `hfk_${randomBytes(24).toString('base64url')}`;
    const added = await store.add({
      tenantId,
      secrets: { live: [LIVE_SECRET], sandbox: [SANDBOX_SECRET] },
      apiKey,
      clerk: { secretKey: 'sk_test_clerk_0123456789', apiUrl: 'http://127.0.0.1:9999' },
    });
    assert.deepEqual(
      added.secrets.live.map((secret) => secret.masked),
      [`whsec_…${LIVE_SECRET.slice(-4)}`],
    );
    assert.deepEqual(
      added.secrets.sandbox.map((secret) => secret.masked),
      [`whsec_…${SANDBOX_SECRET.slice(-4)}`],
    );
    assert.equal(added.hasApiKey, true);
    assert.deepEqual(added.clerk, { hasSecretKey: true, apiUrl: 'http://127.0.0.1:9999' });

    const listed = (await store.list()).find((tenant) => tenant.tenantId === tenantId);
    assert.deepEqual(listed, added);
    assert.ok(!JSON.stringify(listed).includes(LIVE_SECRET) && !JSON.stringify(listed).includes(apiKey));
    assert.deepEqual(await store.clerkSettings(tenantId), {
      secretKey: 'sk_test_clerk_0123456789',
      apiUrl: 'http://127.0.0.1:9999',
    });
  });

  it('keeps no plaintext secret, api key or Clerk key in the stored document', async () => {
    const tenantId = 'acme-plaintext';
    const apiKey = `hfk_${randomBytes(24).toString('base64url')}`;
    await store.add({
      tenantId,
      secrets: { live: [LIVE_SECRET], sandbox: [SANDBOX_SECRET] },
      apiKey,
      clerk: { secretKey: 'sk_live_clerk_secret_value_42' },
    });
    const raw = JSON.stringify(await connection.db!.collection('tenants').findOne({ tenantId }));
    for (const plaintext of [LIVE_SECRET, SANDBOX_SECRET, apiKey, 'sk_live_clerk_secret_value_42']) {
      assert.ok(!raw.includes(plaintext), `stored document contains a plaintext secret`);
    }
    assert.match(raw, /"sealed":"v1:/);
    assert.match(raw, /"apiKeyHash":"sha256:[0-9a-f]{64}"/);
  });

  it('refuses a duplicate id, the reserved default id, a bad id, a tenant without secrets and a short api key', async () => {
    await store.add({ tenantId: 'dupe', secrets: { live: [LIVE_SECRET] } });
    await assert.rejects(store.add({ tenantId: 'dupe', secrets: { live: [LIVE_SECRET] } }), /already exists/);
    await assert.rejects(store.add({ tenantId: 'default', secrets: { live: [LIVE_SECRET] } }), /STRIPE_WEBHOOK_SECRET/);
    await assert.rejects(store.add({ tenantId: 'a.b', secrets: { live: [LIVE_SECRET] } }), TenantStoreError);
    await assert.rejects(store.add({ tenantId: 'empty', secrets: {} }), /at least one Stripe signing secret/);
    await assert.rejects(store.add({ tenantId: 'bad-secret', secrets: { live: ['sk_live_nope'] } }), /whsec_/);
    await assert.rejects(
      store.add({ tenantId: 'short-key', secrets: { live: [LIVE_SECRET] }, apiKey: 'abc' }),
      /at least 24 characters/,
    );
    assert.equal(await store.get('short-key'), null);
  });

  it('rotates: adds the new secret beside the old, is idempotent, and retires old ones only when asked', async () => {
    const tenantId = 'rotating';
    const next = 'whsec_next_aaaaaaaaaaaaaaaaaaaa1111';
    const third = 'whsec_third_bbbbbbbbbbbbbbbbbbbb2222';
    await store.add({ tenantId, secrets: { live: [LIVE_SECRET], sandbox: [SANDBOX_SECRET] } });

    const both = await store.rotateSecret(tenantId, 'live', next);
    assert.deepEqual(
      both.secrets.live.map((secret) => secret.masked),
      ['whsec_…3c2d', 'whsec_…1111'].map((masked) => masked.replace('3c2d', LIVE_SECRET.slice(-4))),
    );
    const again = await store.rotateSecret(tenantId, 'live', next);
    assert.equal(again.secrets.live.length, 2, 'rotating to an active secret does not add it twice');

    const kept = await store.rotateSecret(tenantId, 'live', third, { keep: 2 });
    assert.deepEqual(
      kept.secrets.live.map((secret) => secret.masked),
      ['whsec_…1111', 'whsec_…2222'],
    );
    const only = await store.rotateSecret(tenantId, 'live', third, { keep: 1 });
    assert.deepEqual(
      only.secrets.live.map((secret) => secret.masked),
      ['whsec_…2222'],
    );
    assert.equal(only.secrets.sandbox.length, 1, 'the other environment is untouched');
    await assert.rejects(store.rotateSecret('no-such-tenant', 'live', next), /does not exist/);
  });

  it('removes a tenant', async () => {
    await store.add({ tenantId: 'leaving', secrets: { sandbox: [SANDBOX_SECRET] } });
    assert.equal(await store.remove('leaving'), true);
    assert.equal(await store.get('leaving'), null);
    assert.equal(await store.remove('leaving'), false);
  });
});

describe('the tenant resolver', () => {
  let connection: Connection;
  let store: TenantStore;
  const box = createSecretBox(masterKey);
  let clock = 1_000_000;
  const single = { defaultTenant: 'default', secrets: ['whsec_single_tenant_secret_0000'] };

  before(async () => {
    connection = await mongoose
      .createConnection(testStack().stack.mongoUrl(`resolver_${randomBytes(4).toString('hex')}`))
      .asPromise();
    store = createTenantStore(connection, { secretBox: box });
    await ensureStoreIndexes(connection);
  });
  after(async () => {
    await connection?.dropDatabase();
    await connection?.close();
  });

  const resolverWith = (cacheSeconds: number) =>
    createTenantResolver({ store, secretBox: box, single, cacheSeconds, now: () => clock });

  it('returns only the named environment’s secrets of the named tenant', async () => {
    await store.add({ tenantId: 'envs', secrets: { live: [LIVE_SECRET], sandbox: [SANDBOX_SECRET] } });
    const resolve = resolverWith(5);
    const live = await resolve({ tenant: 'envs', environment: 'live', apiKey: undefined });
    assert.deepEqual(live, { tenantId: 'envs', environment: 'live', secrets: [LIVE_SECRET] });
    const sandbox = await resolve({ tenant: 'envs', environment: 'sandbox', apiKey: undefined });
    assert.deepEqual(sandbox, { tenantId: 'envs', environment: 'sandbox', secrets: [SANDBOX_SECRET] });
    await assert.rejects(
      resolve({ tenant: 'envs', environment: undefined, apiKey: undefined }),
      (error: unknown) => error instanceof AppError && error.status === 400 && error.code === 'missing_environment',
    );
  });

  it('serves the default tenant from STRIPE_WEBHOOK_SECRET even when the database holds a tenant of that id', async () => {
    await store.add({ tenantId: 'default', secrets: { live: [LIVE_SECRET] } });
    const resolve = resolverWith(5);
    assert.deepEqual(await resolve({ tenant: undefined, environment: undefined, apiKey: undefined }), {
      tenantId: 'default',
      secrets: single.secrets,
    });
    assert.deepEqual(await resolve({ tenant: 'default', environment: 'live', apiKey: undefined }), {
      tenantId: 'default',
      secrets: single.secrets,
    });
  });

  it('serves the default tenant from the database once STRIPE_WEBHOOK_SECRET is unset (the migration path)', async () => {
    const resolve = createTenantResolver({ store, secretBox: box, single: { defaultTenant: 'default', secrets: [] } });
    assert.deepEqual(await resolve({ tenant: undefined, environment: 'live', apiKey: undefined }), {
      tenantId: 'default',
      environment: 'live',
      secrets: [LIVE_SECRET],
    });
    const noneStored = createTenantResolver({
      store,
      secretBox: box,
      single: { defaultTenant: 'nobody-home', secrets: [] },
    });
    assert.deepEqual(await noneStored({ tenant: undefined, environment: undefined, apiKey: undefined }), {
      tenantId: 'nobody-home',
      secrets: [],
    });
  });

  it('sees a rotation once the cache window has passed, not on every delivery', async () => {
    const next = 'whsec_cache_window_new_secret_99';
    await store.add({ tenantId: 'cached', secrets: { live: [LIVE_SECRET] } });
    const resolve = resolverWith(5);
    const selector = { tenant: 'cached', environment: 'live' as const, apiKey: undefined };
    assert.deepEqual((await resolve(selector)).secrets, [LIVE_SECRET]);

    await store.rotateSecret('cached', 'live', next, { keep: 1 });
    clock += 4_000;
    assert.deepEqual((await resolve(selector)).secrets, [LIVE_SECRET], 'within the window the cached secrets answer');
    clock += 1_001;
    assert.deepEqual((await resolve(selector)).secrets, [next], 'after the window the rotation is visible');
  });

  it('answers 503 when the database cannot be read, and does not cache the failure', async () => {
    let fail = true;
    const flaky = createTenantResolver({
      store: {
        findRecord: async (tenantId) => {
          if (fail) throw new Error('connection refused');
          return store.findRecord(tenantId);
        },
      },
      secretBox: box,
      single,
      now: () => clock,
    });
    const selector = { tenant: 'cached', environment: 'live' as const, apiKey: undefined };
    await assert.rejects(flaky(selector), (error: unknown) => error instanceof AppError && error.status === 503);
    fail = false;
    assert.equal((await flaky(selector)).tenantId, 'cached');
  });
});

describe('hookflow tenants (CLI)', () => {
  let env: Record<string, string>;
  let output: string[];
  const run = async (...args: string[]) => {
    output = [];
    await tenantsCommand({ env, write: (text) => output.push(text) })
      .exitOverride()
      .parseAsync(args, { from: 'user' });
    return JSON.parse(output.join('')) as unknown;
  };

  before(() => {
    env = {
      MONGO_URL: testStack().stack.mongoUrl(`tenants_cli_${randomBytes(4).toString('hex')}`),
      HOOKFLOW_MASTER_KEY: MASTER_KEY_B64,
    };
  });
  after(async () => {
    const connection = await mongoose.createConnection(env.MONGO_URL!).asPromise();
    await connection.dropDatabase();
    await connection.close();
  });

  it('adds with a generated api key, lists masked, rotates and removes, printing JSON', async () => {
    const added = (await run('add', 'cli-tenant', '--live-secret', LIVE_SECRET, '--generate-api-key', '--json')) as {
      tenant: { tenantId: string; hasApiKey: boolean };
      apiKey: string;
    };
    assert.equal(added.tenant.tenantId, 'cli-tenant');
    assert.equal(added.tenant.hasApiKey, true);
    assert.match(added.apiKey, /^hfk_[A-Za-z0-9_-]{43}$/);

    const listed = (await run('list', '--json')) as Array<{
      tenantId: string;
      secrets: { live: Array<{ masked: string }> };
    }>;
    assert.deepEqual(
      listed.map((tenant) => [tenant.tenantId, tenant.secrets.live.map((secret) => secret.masked)]),
      [['cli-tenant', [`whsec_…${LIVE_SECRET.slice(-4)}`]]],
    );
    assert.ok(!output.join('').includes(LIVE_SECRET));

    const next = 'whsec_cli_rotated_cccccccccccc3333';
    const rotated = (await run('rotate-secret', 'cli-tenant', '--environment', 'live', '--secret', next, '--json')) as {
      secrets: { live: unknown[] };
    };
    assert.equal(rotated.secrets.live.length, 2);
    const retired = (await run(
      'rotate-secret',
      'cli-tenant',
      '--environment',
      'live',
      '--secret',
      next,
      '--remove-old',
      '--json',
    )) as { secrets: { live: Array<{ masked: string }> } };
    assert.deepEqual(
      retired.secrets.live.map((secret) => secret.masked),
      ['whsec_…3333'],
    );

    assert.deepEqual(await run('remove', 'cli-tenant', '--json'), { tenantId: 'cli-tenant', removed: true });
    assert.deepEqual(await run('list', '--json'), []);
  });
});
