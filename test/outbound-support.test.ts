import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deliveriesCommand } from '../src/cli/deliveries-command';
import { endpointsCommand } from '../src/cli/endpoints-command';
import { connectDatabase, type Database } from '../src/db/connection';
import type { DeliveryView } from '../src/outbound/delivery-service';
import { freePort } from '../src/stack/ports';
import { storeOptionsFromConfig } from '../src/stores';
import { startFakeMerchant, type FakeMerchant } from './helpers/fake-merchant';
import { listWorkflows, SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';

const ADMIN_TOKEN = 'admin-token-for-outbound-support-tests';

/**
 * Outbound deliveries that gave up, as support and operators meet them: failed in the list (API and
 * CLI), `delivery_failed` in the Temporal UI's filter, and delivered by `resend` or
 * `endpoints recover --since` once the merchant answers again — with the same `webhook-id`.
 */
describe('failed outbound deliveries: list, resend, recover', () => {
  let hookflow: RunningHookflow;
  let db: Database;
  let merchant: FakeMerchant;
  let merchantDown = true;
  let endpointId: string;
  let metricsPort: number;
  let cliEnv: NodeJS.ProcessEnv;

  before(async function () {
    this.timeout(120_000);
    merchant = await startFakeMerchant(() =>
      merchantDown ? { status: 503, body: 'down for maintenance' } : { status: 200 },
    );
    metricsPort = await freePort();
    const env = {
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
      HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
      HOOKFLOW_OUTBOUND_RETRY_SCHEDULE: '100ms,100ms',
      HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
      WORKER_METRICS_PORT: String(metricsPort),
    };
    hookflow = await startHookflow(env);
    db = await connectDatabase(hookflow.config.mongoUrl, storeOptionsFromConfig(hookflow.config));
    const endpoint = await db.stores.endpoints.create({
      tenantId: 'default',
      url: merchant.url,
      eventTypes: ['transaction.*'],
    });
    endpointId = endpoint.endpointId;
    cliEnv = {
      ...env,
      MONGO_URL: hookflow.config.mongoUrl,
      TEMPORAL_ADDRESS: hookflow.config.temporal.address,
      TEMPORAL_TASK_QUEUE: hookflow.config.temporal.taskQueue,
    };
  });

  after(async () => {
    await db?.close();
    await hookflow?.close();
    await merchant?.close();
  });

  afterEach(() => {
    process.exitCode = undefined;
  });

  function api(path: string, init: RequestInit = {}, token: string | null = ADMIN_TOKEN) {
    return fetch(`${hookflow.baseUrl}${path}`, {
      ...init,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
  }

  async function cli(command: 'deliveries' | 'endpoints', ...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const io = { env: cliEnv, write: (text: string) => out.push(text), writeError: (text: string) => err.push(text) };
    const program = command === 'deliveries' ? deliveriesCommand(io) : endpointsCommand(io);
    await program.exitOverride().parseAsync(args, { from: 'user' });
    return { out: out.join(''), err: err.join(''), exitCode: process.exitCode };
  }

  /** Sends a charge.succeeded (→ transaction.succeeded to the merchant) and waits for its message to settle. */
  async function sendCharge(): Promise<DeliveryView> {
    const chargeId = uniqueId('ch');
    const event = stripeEvent('charge.succeeded', stripeObject('charge', { id: chargeId, metadata: {} }));
    assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
    assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'processed');
    return settled(async () => {
      const page = (await (await api(`/api/deliveries?endpoint=${endpointId}&limit=200`)).json()) as {
        deliveries: DeliveryView[];
      };
      return page.deliveries.find((delivery) => delivery.stripeEventId === event.id);
    });
  }

  /** Polls until the delivery exists and is delivered, failed or skipped. */
  async function settled(read: () => Promise<DeliveryView | undefined>): Promise<DeliveryView> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const delivery = await read();
      if (delivery && ['delivered', 'failed', 'skipped'].includes(delivery.status)) return delivery;
      if (Date.now() > deadline) throw new Error(`delivery still ${delivery?.status ?? 'missing'} after 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function deliveryOf(messageId: string): Promise<DeliveryView & { attemptLog: Array<{ statusCode: number }> }> {
    const response = await api(`/api/deliveries/${messageId}`);
    assert.equal(response.status, 200);
    return ((await response.json()) as { delivery: DeliveryView & { attemptLog: Array<{ statusCode: number }> } })
      .delivery;
  }

  async function deliveredAgain(messageId: string) {
    return settled(async () => {
      const delivery = await deliveryOf(messageId);
      return delivery.status === 'delivered' ? delivery : { ...delivery, status: 'pending' as const };
    });
  }

  it('shows an exhausted delivery as failed in the API, the CLI and the Temporal filter, and resend delivers it with the same webhook-id', async () => {
    merchantDown = true;
    const failed = await sendCharge();
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts, 3, 'the first attempt and one after each of the two delays');
    assert.match(failed.lastError ?? '', /gave up after 3 attempts: HTTP 503/);

    const listed = (await (await api(`/api/deliveries?status=failed&endpoint=${endpointId}`)).json()) as {
      deliveries: DeliveryView[];
    };
    assert.deepEqual(
      listed.deliveries.map((delivery) => delivery.messageId),
      [failed.messageId],
    );
    const detail = await deliveryOf(failed.messageId);
    assert.deepEqual(
      detail.attemptLog.map((attempt) => attempt.statusCode),
      [503, 503, 503],
    );

    const fromCli = await cli('deliveries', 'list', '--status', 'failed', '--endpoint', endpointId, '--json');
    assert.equal(fromCli.err, '');
    assert.deepEqual(
      (JSON.parse(fromCli.out) as { deliveries: DeliveryView[] }).deliveries.map((delivery) => delivery.messageId),
      [failed.messageId],
    );
    const text = await cli('deliveries', 'list', '--status', 'failed', '--endpoint', endpointId);
    assert.match(
      text.out,
      new RegExp(`^${failed.messageId}  transaction\\.succeeded  ${endpointId} .* failed: gave up`),
    );

    // Operators: the delivery workflow completed, and its HookflowOutcome says it gave up.
    const inTemporal = await listWorkflows(
      hookflow,
      `WorkflowId = '${failed.workflowId}' AND HookflowOutcome = 'delivery_failed' AND TenantId = 'default'`,
      1,
    );
    assert.equal(inTemporal.length, 1, 'the Temporal filter HookflowOutcome = delivery_failed finds the delivery');

    merchantDown = false;
    const resent = await api(`/api/deliveries/${failed.messageId}/resend`, {
      method: 'POST',
      body: JSON.stringify({ by: 'support:ana' }),
    });
    assert.equal(resent.status, 202);
    const delivered = await deliveredAgain(failed.messageId);
    assert.equal(delivered.attempts, 4, 'attempt numbering continues after the failed ones');
    assert.deepEqual(
      delivered.resends.map((entry) => [entry.by, entry.trigger]),
      [['support:ana', 'resend']],
    );
    const requests = merchant.received.filter((request) => request.webhookId === failed.messageId);
    assert.equal(requests.length, 4);
    assert.equal(new Set(requests.map((request) => request.body)).size, 1, 'the same body every time');
    await listWorkflows(hookflow, `WorkflowId = '${failed.workflowId}' AND HookflowOutcome = 'delivered'`, 1);

    const afterwards = (await (await api(`/api/deliveries?status=failed&endpoint=${endpointId}`)).json()) as {
      deliveries: DeliveryView[];
    };
    assert.deepEqual(afterwards.deliveries, [], 'a delivered message leaves the failed list');

    const again = await cli('deliveries', 'resend', failed.messageId);
    assert.equal(again.exitCode, 1);
    assert.equal(again.err, `hookflow deliveries: message ${failed.messageId} was delivered already\n`);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^hookflow_outbound_attempts_total\{result="failed"\} 3$/m);
    assert.match(metrics, /^hookflow_outbound_attempts_total\{result="delivered"\} 1$/m);
  });

  it('recovers every delivery of the endpoint that failed since a time, with the same webhook-ids', async () => {
    merchantDown = true;
    const first = await sendCharge();
    const second = await sendCharge();
    assert.deepEqual([first.status, second.status], ['failed', 'failed']);

    merchantDown = false;
    const recovered = await cli('endpoints', 'recover', endpointId, '--since', '2h', '--json');
    assert.equal(recovered.err, '');
    const result = JSON.parse(recovered.out) as { resent: string[]; skipped: unknown[]; more: boolean };
    assert.deepEqual([...result.resent].sort(), [first.messageId, second.messageId].sort());
    assert.deepEqual(result.skipped, []);
    for (const message of [first, second]) {
      const delivered = await deliveredAgain(message.messageId);
      assert.equal(delivered.resends[0]?.trigger, 'recover');
      assert.match(delivered.resends[0]?.by ?? '', /^cli:/);
      const ok = merchant.received.filter((request) => request.webhookId === message.messageId);
      assert.equal(ok.length, 4, 'three failed attempts and the recovered one, one webhook-id');
    }
    const nothingLeft = await api(`/api/endpoints/${endpointId}/recover`, {
      method: 'POST',
      body: JSON.stringify({ since: '2h' }),
    });
    assert.equal(nothingLeft.status, 202);
    assert.deepEqual(((await nothingLeft.json()) as { recover: { resent: string[] } }).recover.resent, []);
  });

  it('answers bad input with a clear 4xx and changes nothing', async () => {
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/api/deliveries?state=failed', {}, 400, 'unknown_query_parameter'],
      ['/api/deliveries?status=broken', {}, 400, 'bad_request'],
      ['/api/deliveries?status=failed&cursor=nonsense', {}, 400, 'invalid_cursor'],
      ['/api/deliveries?endpoint=ep_bad', {}, 400, 'invalid_id'],
      ['/api/deliveries/not-a-message', {}, 400, 'invalid_id'],
      [`/api/deliveries/msg_${'0'.repeat(32)}`, {}, 404, 'not_found'],
      [`/api/deliveries/msg_${'0'.repeat(32)}/resend`, { method: 'POST' }, 404, 'not_found'],
      [`/api/deliveries/msg_${'0'.repeat(32)}/resend`, { method: 'POST', body: '{"who":"x"}' }, 400, 'unknown_field'],
      [`/api/endpoints/${endpointId}/recover`, { method: 'POST', body: '{}' }, 400, 'bad_request'],
      [`/api/endpoints/${endpointId}/recover`, { method: 'POST', body: '{"since":"tomorrow"}' }, 400, 'invalid_since'],
      [
        `/api/endpoints/${endpointId}/recover`,
        { method: 'POST', body: '{"since":"2999-01-01"}' },
        400,
        'invalid_since',
      ],
      [`/api/endpoints/${endpointId}/recover`, { method: 'POST', body: '[1]' }, 400, 'invalid_json'],
      [`/api/endpoints/ep_${'0'.repeat(24)}/recover`, { method: 'POST', body: '{"since":"1h"}' }, 404, 'not_found'],
    ];
    for (const [path, init, status, code] of cases) {
      const response = await api(path, init);
      assert.equal(response.status, status, `${init.method ?? 'GET'} ${path}`);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, code, path);
    }
    const anonymous = await api('/api/deliveries', {}, null);
    assert.equal(anonymous.status, 401);

    await db.stores.endpoints.setEnabled(endpointId, false, 'paused by test');
    try {
      const disabled = await api(`/api/endpoints/${endpointId}/recover`, {
        method: 'POST',
        body: '{"since":"1h"}',
      });
      assert.equal(disabled.status, 409);
      assert.match(((await disabled.json()) as { error: { message: string } }).error.message, /enable it first/);
    } finally {
      await db.stores.endpoints.setEnabled(endpointId, true);
    }

    const badSince = await cli('endpoints', 'recover', endpointId, '--since', 'yesterday');
    assert.equal(badSince.exitCode, 1);
    assert.match(badSince.err, /^hookflow endpoints: since must be a duration such as 2h/);
    const badId = await cli('deliveries', 'resend', 'msg_nope');
    assert.equal(badId.err, "hookflow deliveries: 'msg_nope' is not a delivery id (msg_ and 32 hex digits)\n");
  });
});
