import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';

describe('operator endpoints', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  it('reports the version and pipeline on GET /webhooks/stripe', async () => {
    const response = await fetch(hookflow.webhookUrl);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { version: string; pipeline: string[] };
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.ok(body.pipeline.includes('start-workflow:processStripeEvent'));
  });

  it('answers /healthz and reports Mongo and Temporal ready and the start backlog on /readyz', async () => {
    assert.deepEqual(await (await fetch(`${hookflow.baseUrl}/healthz`)).json(), { status: 'ok' });
    const ready = await fetch(`${hookflow.baseUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'ready',
      checks: { mongo: 'ok', temporal: 'ok' },
      starts: {
        backlog: 0,
        inFlight: 0,
        limit: hookflow.config.intake.startConcurrency,
        queueLimit: hookflow.config.intake.startQueueLimit,
      },
    });
  });

  it('exposes the workflow start backlog, starts and start lag as metrics', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
    await waitForEventStatus(hookflow, event.id);
    const text = await (await fetch(`${hookflow.baseUrl}/metrics`)).text();
    assert.match(text, /^hookflow_workflow_start_backlog 0$/m);
    assert.match(text, /^hookflow_workflow_starts_total\{result="started"\} [1-9]/m);
    assert.match(text, /^hookflow_workflow_start_lag_seconds_count [1-9]/m);
  });

  it('exposes Prometheus metrics including webhook counters', async () => {
    await fetch(hookflow.webhookUrl, { method: 'POST', body: '{}' });
    const text = await (await fetch(`${hookflow.baseUrl}/metrics`)).text();
    assert.match(text, /hookflow_webhooks_total\{result="missing_signature"\} 1/);
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await fetch(`${hookflow.baseUrl}/nope`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'not_found');
  });
});

describe('configuration', () => {
  it('names every bad variable in one error', () => {
    assert.throws(
      () =>
        loadConfig({
          PORT: 'eighty',
          MONGO_URL: 'postgres://x',
          STRIPE_WEBHOOK_SECRET: 'sk_live_oops',
          LOG_LEVEL: 'loud',
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        for (const name of ['PORT', 'MONGO_URL', 'STRIPE_WEBHOOK_SECRET', 'LOG_LEVEL'])
          assert.match(error.message, new RegExp(name));
        return true;
      },
    );
  });

  it('splits several comma-separated signing secrets for rotation', () => {
    const config = loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_one, whsec_two' });
    assert.deepEqual(config.stripe.webhookSecrets, ['whsec_one', 'whsec_two']);
    assert.equal(config.http.host, '127.0.0.1');
  });
});
