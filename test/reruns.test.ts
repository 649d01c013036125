import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { eventWorkflowId } from '../src/contracts';
import { connectDatabase, type Database } from '../src/db/connection';
import { freePort } from '../src/stack/ports';
import { storeOptionsFromConfig } from '../src/stores';
import { caseIdFor } from '../src/stores/case-store';
import { startFakeClerk, type FakeClerk } from './helpers/fake-clerk';
import { startFakeMerchant, type FakeMerchant } from './helpers/fake-merchant';
import {
  listWorkflows,
  SECRET_A,
  startHookflow,
  waitForEventStatus,
  workflowResult,
  type RunningHookflow,
} from './helpers/hookflow';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, subscriptionCheckout } from './helpers/stripe-events';
import { ADMIN_TOKEN, api, runCli, waitFor } from './helpers/support';

/**
 * Re-runs against the real stack (Temporal dev server + FerretDB), Clerk faked: single re-runs from
 * the CLI and the API, forced re-runs, Stripe redelivery of a failed event, bulk re-runs with plan,
 * progress and cancel, and the refusals that change nothing.
 */
describe('re-running events', function () {
  this.timeout(180_000);
  let hookflow: RunningHookflow;
  let clerk: FakeClerk;
  let merchant: FakeMerchant;
  let db: Database;
  let metricsPort: number;
  const tenant = `rerun-${randomBytes(3).toString('hex')}`;

  before(async () => {
    clerk = await startFakeClerk();
    merchant = await startFakeMerchant(() => ({ status: 200 }));
    metricsPort = await freePort();
    hookflow = await startHookflow({
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
      HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
      WORKER_METRICS_PORT: String(metricsPort),
      CLERK_SECRET_KEY: 'sk_test_reruns',
      CLERK_API_URL: clerk.url,
      HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
      // Bulk jobs are one per tenant in the namespace: a tenant of this file's own.
      HOOKFLOW_DEFAULT_TENANT: tenant,
      HOOKFLOW_RERUN_MAX_EVENTS: '20',
      HOOKFLOW_RERUN_RATE: '2',
      TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    });
    db = await connectDatabase(hookflow.config.mongoUrl, storeOptionsFromConfig(hookflow.config));
    // A merchant endpoint for the dispute's outbound messages: a forced re-run must not send new ones.
    await db.stores.endpoints.create({ tenantId: tenant, url: merchant.url, eventTypes: ['dispute.*', 'case.*'] });
  });
  after(async () => {
    await db?.close();
    await hookflow?.close();
    await clerk?.close();
    await merchant?.close();
  });

  /** A checkout for a Clerk organization that Clerk does not know (404): the event fails. */
  async function failingCheckout() {
    const organizationId = uniqueId('org');
    clerk.script('PATCH', `/v1/organizations/${organizationId}/metadata`, { status: 404 });
    const event = checkoutFor(organizationId);
    await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    const stored = await waitForEventStatus(hookflow, event.id);
    assert.equal(stored.status, 'failed');
    return { event, organizationId };
  }

  it('re-runs a failed event from the CLI under its own workflow id, with its search attributes, audited', async () => {
    const { event } = await failingCheckout();
    const workflowId = eventWorkflowId(tenant, event.id);
    const failedRun = (await hookflow.temporal.client.workflow.getHandle(workflowId).describe()).runId;
    clerk.reset(); // Clerk knows the organization now: 200

    const run = await runCli(hookflow, ['rerun', event.id, '--reason', 'Clerk organization restored']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /re-run 1 of evt_/);

    const stored = await waitFor('processed', async () => {
      const doc = await hookflow.db.stores.events.find(tenant, event.id);
      return doc?.status === 'processed' ? doc : null;
    });
    assert.equal(stored.outcome, 'clerk_synced');
    const description = await hookflow.temporal.client.workflow.getHandle(workflowId).describe();
    assert.equal(description.workflowId, workflowId, 'same workflow id');
    assert.notEqual(description.runId, failedRun, 'a new run');
    assert.equal(description.status.name, 'COMPLETED');
    const attributes = description.searchAttributes as Record<string, unknown[]>;
    assert.deepEqual(attributes.StripeEventType, ['checkout.session.completed']);
    assert.deepEqual(attributes.TenantId, [tenant]);
    assert.deepEqual(attributes.HookflowOutcome, ['clerk_synced']);
    assert.ok(attributes.StripeObjectId?.length === 1 && attributes.StripeCustomerId?.length === 1);
    assert.equal((description.memo as Record<string, unknown>).type, 'checkout.session.completed');

    const detail = await api(hookflow, 'GET', `/api/events/${event.id}`);
    assert.equal(detail.status, 200);
    const [audit] = detail.body.reruns;
    assert.equal(audit.by, `cli:${userInfo().username}`);
    assert.equal(audit.reason, 'Clerk organization restored');
    assert.equal(audit.trigger, 'manual');
    assert.equal(audit.previousRunId, failedRun);
    assert.equal(audit.runId, description.runId);
    assert.equal(audit.result, 'processed');
    assert.equal(detail.body.event.attempts, 2);
    assert.match(detail.body.temporal.uiUrl, new RegExp(`/workflows/${encodeURIComponent(workflowId)}/`));
  });

  it('re-runs a processed event only with force, under a derived id, without a second case', async () => {
    const disputeId = uniqueId('dp');
    const event = stripeEvent('charge.dispute.created', stripeObject('dispute', { id: disputeId }));
    await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    assert.equal((await waitForEventStatus(hookflow, event.id)).outcome, 'case_opened');
    const delivered = await waitFor('dispute.created and case.created delivered', async () =>
      merchant.received.length >= 2 ? merchant.received.map((webhook) => String(webhook.headers['webhook-id'])) : null,
    );

    const refused = await api(hookflow, 'POST', `/api/events/${event.id}/rerun`, { reason: 'check' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'not_failed');

    const forced = await api(hookflow, 'POST', `/api/events/${event.id}/rerun`, {
      reason: 'replay after a case-store fix',
      force: true,
      by: 'Ada (support)',
    });
    assert.equal(forced.status, 202, JSON.stringify(forced.body));
    const derived = `${eventWorkflowId(tenant, event.id)}:rerun:1`;
    assert.equal(forced.body.rerun.workflowId, derived);
    assert.equal(forced.body.rerun.forced, true);
    await workflowResult(hookflow, derived);
    const cases = await hookflow.db.stores.cases.listCases({ tenantId: tenant, limit: 200 });
    assert.equal(cases.filter((found) => found.caseId === caseIdFor(disputeId)).length, 1, 'one case');
    const detail = await api(hookflow, 'GET', `/api/events/${event.id}`);
    assert.equal(detail.body.event.status, 'processed');
    assert.equal(detail.body.event.workflowId, derived);
    assert.equal(detail.body.reruns[0].by, 'Ada (support)');
    // The README's operator query finds dispute workflows by prefix, re-runs included.
    const disputes = await listWorkflows(
      hookflow,
      `TenantId = '${tenant}' AND StripeEventType STARTS_WITH 'charge.dispute.'`,
      2,
    );
    assert.deepEqual(
      disputes.map((execution) => execution.workflowId).sort(),
      [eventWorkflowId(tenant, event.id), derived].sort(),
    );
    // The re-run dispatched the same messages (same ids); delivered ones are not sent again.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const ids = merchant.received.map((webhook) => String(webhook.headers['webhook-id']));
    assert.equal(new Set(delivered).size, 2);
    assert.deepEqual(ids, delivered, 'no new webhook-id, no second delivery');
    assert.deepEqual(
      detail.body.deliveries.map((delivery: { messageId: string }) => delivery.messageId).sort(),
      [...delivered].sort(),
      'the event detail lists its deliveries by webhook-id',
    );
  });

  it('restarts a failed event when Stripe redelivers it (audited as a redelivery)', async () => {
    const { event } = await failingCheckout();
    clerk.reset();
    const restartsBefore = await redeliveryRestartsCounted();
    const response = await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    assert.equal(response.body.duplicate, true);
    assert.equal(await redeliveryRestartsCounted(), restartsBefore + 1, "counted on the receiver's /metrics");
    const stored = await waitFor('processed after redelivery', async () => {
      const doc = await hookflow.db.stores.events.find(tenant, event.id);
      return doc?.status === 'processed' ? doc : null;
    });
    assert.equal(stored.outcome, 'clerk_synced');
    const detail = await api(hookflow, 'GET', `/api/events/${event.id}`);
    assert.equal(detail.body.reruns[0].trigger, 'redelivery');
    assert.equal(detail.body.reruns[0].by, 'stripe');

    // A processed event is never run again by a redelivery.
    const again = await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
    assert.equal(again.body.duplicate, true);
    assert.equal((await hookflow.db.stores.events.find(tenant, event.id))?.reruns, 1);
    assert.equal(await redeliveryRestartsCounted(), restartsBefore + 1, 'a plain duplicate is not a re-run');
  });

  /** `hookflow_reruns_total{trigger="redelivery",result="started"}` on the receiver's /metrics. */
  async function redeliveryRestartsCounted(): Promise<number> {
    const metrics = await (await fetch(`${hookflow.baseUrl}/metrics`)).text();
    const counted = /hookflow_reruns_total\{trigger="redelivery",result="started"\} (\d+)/.exec(metrics);
    return counted ? Number(counted[1]) : 0;
  }

  it('refuses bad input with a clear 4xx and changes nothing', async () => {
    const { event } = await failingCheckout();
    const cases: Array<[string, string, unknown, number, string]> = [
      ['GET', '/api/events?colour=red', undefined, 400, 'unknown_query_parameter'],
      ['GET', '/api/events?status=broken', undefined, 400, 'invalid_filter'],
      ['GET', '/api/events?type=Charge..x', undefined, 400, 'invalid_filter'],
      ['GET', '/api/events?cursor=nonsense', undefined, 400, 'invalid_cursor'],
      ['GET', '/api/events/not-an-event', undefined, 400, 'invalid_id'],
      ['POST', '/api/events/evt_%3Cscript%3E/rerun', { reason: 'x' }, 400, 'invalid_id'],
      ['POST', `/api/events/${event.id}/rerun`, {}, 400, 'invalid_reason'],
      ['POST', `/api/events/${event.id}/rerun`, { reason: '   ' }, 400, 'invalid_reason'],
      ['POST', `/api/events/${event.id}/rerun`, { reason: 'x'.repeat(1001) }, 400, 'invalid_reason'],
      ['POST', `/api/events/${event.id}/rerun`, { reason: 'x', colour: 1 }, 400, 'unknown_field'],
      ['POST', '/api/reruns', { filter: { colour: 'red' }, reason: 'x' }, 400, 'unknown_query_parameter'],
      ['POST', '/api/reruns', { filter: { status: 'processed' }, reason: 'x' }, 400, 'invalid_filter'],
      ['GET', '/api/reruns/rr_nothex', undefined, 400, 'invalid_id'],
      ['GET', '/api/reruns/rr_0123456789abcdef', undefined, 404, 'rerun_not_found'],
      ['GET', '/api/events/evt_missing123', undefined, 404, 'event_not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const response = await api(hookflow, method, path, body);
      assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code, `${method} ${path}`);
      assert.ok(response.body.error.message.length > 10);
    }
    const cli = await runCli(hookflow, ['rerun', event.id]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr.trim(), /^hookflow rerun: A reason is required/);
    assert.equal(cli.stderr.trim().split('\n').length, 1);
    const stored = await hookflow.db.stores.events.find(tenant, event.id);
    assert.equal(stored?.status, 'failed');
    assert.equal(stored?.reruns, 0, 'nothing re-ran');
    // Leave no failed event behind for the bulk test's counts.
    clerk.reset();
    await api(hookflow, 'POST', `/api/events/${event.id}/rerun`, { reason: 'clean up' });
    await waitForEventStatus(hookflow, event.id);
    await waitFor(
      'processed',
      async () => (await hookflow.db.stores.events.find(tenant, event.id))?.status === 'processed',
    );
  });

  it('bulk re-runs only currently failed events: plan, cap, progress, cancel midway, then the rest from the CLI', async () => {
    clerk.reset();
    const failed: Array<{ id: string }> = [];
    for (let index = 0; index < 25; index++) failed.push((await failingCheckout()).event);
    const planOf = async () => (await api(hookflow, 'POST', '/api/reruns', { filter: {}, dryRun: true })).body.plan;

    // 25 failed > cap 20: refused, nothing started.
    assert.equal((await planOf()).overCap, true);
    const tooLarge = await api(hookflow, 'POST', '/api/reruns', { filter: {}, reason: 'all of them' });
    assert.equal(tooLarge.status, 422);
    assert.equal(tooLarge.body.error.code, 'plan_too_large');
    for (const event of failed) assert.equal((await hookflow.db.stores.events.find(tenant, event.id))?.reruns, 0);

    // Clerk is fixed; 5 of them are re-run by hand first and must not be picked again.
    clerk.reset();
    const fixed = failed.slice(0, 5);
    for (const event of fixed) {
      assert.equal((await api(hookflow, 'POST', `/api/events/${event.id}/rerun`, { reason: 'by hand' })).status, 202);
    }
    for (const event of fixed) {
      await waitFor(
        'fixed',
        async () => (await hookflow.db.stores.events.find(tenant, event.id))?.status === 'processed',
      );
    }

    const plan = await planOf();
    assert.equal(plan.count, 20);
    assert.equal(plan.overCap, false);
    assert.equal(plan.firstEventIds.length, 10);
    for (const id of plan.firstEventIds) assert.ok(!fixed.some((event) => event.id === id));

    const started = await api(hookflow, 'POST', '/api/reruns', {
      filter: { type: 'checkout.*' },
      reason: 'Clerk outage over',
      by: 'Ada',
    });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const jobId = started.body.job.id as string;
    const second = await api(hookflow, 'POST', '/api/reruns', { filter: {}, reason: 'again' });
    assert.equal(second.status, 409, 'one bulk re-run per tenant at a time');
    assert.equal(second.body.error.code, 'bulk_rerun_running');

    // Progress moves (2 events/s), then a cancel midway stops it cleanly.
    await waitFor('progress', async () => (await api(hookflow, 'GET', `/api/reruns/${jobId}`)).body.job.started >= 3);
    const cancel = await api(hookflow, 'POST', `/api/reruns/${jobId}/cancel`, { by: 'Ada' });
    assert.equal(cancel.status, 202);
    const cancelled = await waitFor('cancelled', async () => {
      const job = (await api(hookflow, 'GET', `/api/reruns/${jobId}`)).body.job;
      return job.state === 'cancelled' ? job : null;
    });
    assert.equal(cancelled.cancelledBy, 'Ada');
    assert.ok(cancelled.started >= 3 && cancelled.started < 20, `started ${cancelled.started}`);
    assert.equal(cancelled.skipped, 0);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = (await api(hookflow, 'GET', `/api/reruns/${jobId}`)).body.job;
    assert.equal(after.started, cancelled.started, 'nothing started after the cancel');
    const rerunCount = async () => {
      let count = 0;
      for (const event of failed.slice(5))
        count += (await hookflow.db.stores.events.find(tenant, event.id))?.reruns ?? 0;
      return count;
    };
    assert.equal(await rerunCount(), cancelled.started);

    // The rest from the CLI: plan printed, progress, completed; the fixed five stay untouched.
    const cli = await runCli(hookflow, ['rerun', '--failed', '--reason', 'the rest', '--yes', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const job = JSON.parse(cli.stdout.slice(cli.stdout.indexOf('{'))).job;
    assert.equal(job.state, 'completed');
    assert.equal(job.started, 20 - cancelled.started);
    for (const event of failed.slice(5)) {
      await waitFor(
        'processed',
        async () => (await hookflow.db.stores.events.find(tenant, event.id))?.status === 'processed',
      );
    }
    for (const event of fixed) assert.equal((await hookflow.db.stores.events.find(tenant, event.id))?.reruns, 1);
    const metrics = await (await fetch(`${hookflow.baseUrl}/metrics`)).text();
    assert.match(metrics, /hookflow_reruns_total\{trigger="manual",result="started"\} \d+/);
    const workerMetrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(workerMetrics, /hookflow_reruns_total\{trigger="bulk",result="started"\} 20/);
    assert.match(
      workerMetrics,
      /hookflow_events_processed_total\{type="checkout.session.completed",outcome="failed"\} \d+/,
    );
    assert.match(
      workerMetrics,
      /hookflow_events_processed_total\{type="checkout.session.completed",outcome="clerk_synced"\} \d+/,
    );
  });
});

function checkoutFor(organizationId: string) {
  return subscriptionCheckout(organizationId);
}
