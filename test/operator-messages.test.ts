import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { startReceiver } from '../src/processes/receiver';
import { createTenantStore, TenantStoreError, type TenantStore } from '../src/stores/tenant-store';
import { MasterKey } from '../src/tenants/master-key';
import { createSecretBox } from '../src/tenants/secret-box';
import { startHookflow, type RunningHookflow } from './helpers/hookflow';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';

const TENANT_SECRET = 'whsec_acme_live_0123456789abcdef';

/** A pino logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

describe('messages that say what to do', () => {
  describe('a tenant stored while the receiver runs without HOOKFLOW_MASTER_KEY', () => {
    let hookflow: RunningHookflow;
    let tenants: TenantStore;

    before(async () => {
      hookflow = await startHookflow(); // single-tenant mode: no HOOKFLOW_MASTER_KEY
      // `hookflow tenants add` run with a key the receiver was not given.
      const secretBox = createSecretBox(MasterKey.parse(randomBytes(32).toString('base64')));
      tenants = createTenantStore(hookflow.db.connection, { secretBox });
      await tenants.add({ tenantId: 'acme', secrets: { live: [TENANT_SECRET] } });
    });
    after(async () => {
      await hookflow?.close();
    });

    it('answers 401 unknown_tenant saying stored tenants are served once the receiver has the master key', async () => {
      const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }), {
        livemode: true,
      });
      const response = await deliverEvent(`${hookflow.webhookUrl}?org_id=acme&environment=live`, event, TENANT_SECRET);
      assert.equal(response.status, 401);
      const error = response.body.error as { code: string; message: string };
      assert.equal(error.code, 'unknown_tenant');
      assert.match(error.message, /^Unknown tenant 'acme'\. This receiver has no HOOKFLOW_MASTER_KEY/);
      assert.match(error.message, /restarted with HOOKFLOW_MASTER_KEY set/);
    });

    it('warns at start-up that the stored tenants are not served', async () => {
      const { log, lines } = capturingLogger();
      const receiver = await startReceiver(hookflow.config, log);
      await receiver.close();
      const warning = lines.find((line) =>
        /tenants are stored but HOOKFLOW_MASTER_KEY is not set/.test(String(line.msg)),
      );
      assert.ok(warning, `a start-up warning among ${JSON.stringify(lines.map((line) => line.msg))}`);
      assert.equal(warning.level, 40); // pino's warn
      assert.equal(warning.stored, 1);
      assert.match(String(warning.msg), /set HOOKFLOW_MASTER_KEY and restart/);
    });

    it('states the signing-secret rule when a secret is too short, without echoing it', async () => {
      await assert.rejects(
        tenants.add({ tenantId: 'shorty', secrets: { sandbox: ['whsec_x'] } }),
        (error: unknown) =>
          error instanceof TenantStoreError &&
          error.message.startsWith(
            'A Stripe signing secret is whsec_ followed by at least 8 characters without spaces; it has 1 after whsec_.',
          ),
      );
      await assert.rejects(
        tenants.add({ tenantId: 'shorty', secrets: { sandbox: ['sk_test_0123456789'] } }),
        /; it does not start with whsec_\./,
      );
    });
  });
});
