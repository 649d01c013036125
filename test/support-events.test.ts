import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { eventWorkflowId } from '../src/contracts';
import { openStores } from '../src/stores';
import { startFakeClerk, type FakeClerk } from './helpers/fake-clerk';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, subscriptionCheckout } from './helpers/stripe-events';
import { ADMIN_TOKEN, api, runCli } from './helpers/support';

/**
 * The support view of stored events through `/api/events` and `hookflow events`, on the real stack:
 * every filter, cursor paging, the event detail, and a query plan check that the list is served by
 * an index (the patched FerretDB build) rather than a scan of the collection.
 */
describe('finding events (API and CLI)', function () {
  this.timeout(120_000);
  let hookflow: RunningHookflow;
  let clerk: FakeClerk;
  const tenant = `support-${randomBytes(3).toString('hex')}`;
  const customerA = uniqueId('cus');
  const customerB = uniqueId('cus');
  const disputeOpened = uniqueId('dp');
  const disputeClosed = uniqueId('dp');
  const events: Array<ReturnType<typeof stripeEvent>> = [];
  let midpoint = '';

  before(async () => {
    clerk = await startFakeClerk();
    hookflow = await startHookflow({
      CLERK_SECRET_KEY: 'sk_test_support_events',
      CLERK_API_URL: clerk.url,
      HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
      HOOKFLOW_DEFAULT_TENANT: tenant,
      TEMPORAL_UI_URL: 'http://127.0.0.1:8233/',
    });
    const organizationId = uniqueId('org');
    clerk.script('PATCH', `/v1/organizations/${organizationId}/metadata`, { status: 404 });
    const plan = [
      stripeEvent('customer.updated', stripeObject('customer', { id: customerA })),
      stripeEvent('invoice.paid', stripeObject('invoice', { id: uniqueId('in'), customer: customerA })),
      stripeEvent('charge.dispute.created', stripeObject('dispute', { id: disputeOpened })),
      stripeEvent('charge.dispute.closed', stripeObject('dispute', { id: disputeClosed, status: 'won' })),
      subscriptionCheckout(organizationId, { customer: customerB }),
    ];
    for (const [index, event] of plan.entries()) {
      // One at a time, a few ms apart: the list order (by receive time) is then the delivery order.
      await deliverEvent(hookflow.webhookUrl, event, SECRET_A);
      await waitForEventStatus(hookflow, event.id);
      events.push(event);
      if (index === 1) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        midpoint = new Date().toISOString();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  });
  after(async () => {
    await hookflow?.close();
    await clerk?.close();
  });

  const ids = (body: Record<string, unknown>) =>
    (body.events as Array<{ eventId: string }>).map((event) => event.eventId);
  const newestFirst = () => [...events].reverse().map((event) => event.id);

  it('lists every stored event newest first, and narrows by each filter', async () => {
    const all = await api(hookflow, 'GET', '/api/events');
    assert.equal(all.status, 200);
    assert.deepEqual(ids(all.body), newestFirst());
    assert.equal(all.body.nextCursor, null);

    const expectations: Array<[string, string[]]> = [
      [`?tenant=${tenant}`, newestFirst()],
      ['?tenant=nobody-here', []],
      ['?status=failed', [events[4]!.id]],
      ['?status=processed', newestFirst().filter((id) => id !== events[4]!.id)],
      ['?type=charge.dispute.*', [events[3]!.id, events[2]!.id]],
      ['?type=charge.dispute.created', [events[2]!.id]],
      ['?type=charge.*', [events[3]!.id, events[2]!.id]],
      [`?object=${disputeOpened}`, [events[2]!.id]],
      [`?customer=${customerA}`, [events[1]!.id, events[0]!.id]],
      [`?customer=${customerB}&status=failed`, [events[4]!.id]],
      [`?since=${encodeURIComponent(midpoint)}`, [events[4]!.id, events[3]!.id, events[2]!.id]],
      [`?until=${encodeURIComponent(midpoint)}`, [events[1]!.id, events[0]!.id]],
      ['?since=1h', newestFirst()],
    ];
    for (const [query, expected] of expectations) {
      const response = await api(hookflow, 'GET', `/api/events${query}`);
      assert.equal(response.status, 200, `${query}: ${JSON.stringify(response.body)}`);
      assert.deepEqual(ids(response.body), expected, query);
    }

    const failed = (await api(hookflow, 'GET', '/api/events?status=failed')).body.events[0];
    assert.equal(failed.error.type, 'ClerkRequestRejected');
    assert.ok(failed.error.message.length > 0);
    assert.equal(failed.workflowId, eventWorkflowId(tenant, events[4]!.id));
    assert.equal(failed.attempts, 1);
  });

  it('pages with cursors: every event exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `/api/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api(hookflow, 'GET', query);
      assert.equal(page.status, 200);
      assert.ok(page.body.events.length <= 2);
      seen.push(...ids(page.body));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, newestFirst());
  });

  it('shows an event with its payload, object state, case, workflow and a Temporal UI link', async () => {
    const response = await api(hookflow, 'GET', `/api/events/${events[2]!.id}`);
    assert.equal(response.status, 200);
    const { event, objectState, cases, temporal, reruns } = response.body;
    assert.equal(event.type, 'charge.dispute.created');
    assert.equal(event.status, 'processed');
    assert.equal(event.outcome, 'case_opened');
    assert.deepEqual(JSON.parse(event.payload), events[2]);
    assert.match(event.payload, /\n {2}"id": "evt_/, 'pretty-printed');
    assert.equal(objectState.objectId, disputeOpened);
    assert.equal(objectState.state.id, disputeOpened);
    assert.equal(cases.length, 1);
    assert.equal(cases[0].status, 'open');
    assert.deepEqual(reruns, []);
    const workflowId = eventWorkflowId(tenant, events[2]!.id);
    assert.equal(temporal.workflowId, workflowId);
    assert.ok(temporal.runId);
    assert.equal(
      temporal.uiUrl,
      `http://127.0.0.1:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${temporal.runId}`,
    );
    assert.equal(temporal.runStatus, 'COMPLETED');
  });

  it('answers the same from the CLI, with every filter', async () => {
    const cases: Array<[string[], string[]]> = [
      [[], newestFirst()],
      [['--status', 'failed'], [events[4]!.id]],
      [
        ['--type', 'charge.dispute.*'],
        [events[3]!.id, events[2]!.id],
      ],
      [['--object', disputeClosed], [events[3]!.id]],
      [
        ['--customer', customerA],
        [events[1]!.id, events[0]!.id],
      ],
      [
        ['--tenant', tenant, '--since', midpoint],
        [events[4]!.id, events[3]!.id, events[2]!.id],
      ],
      [['--until', midpoint, '--limit', '1'], [events[1]!.id]],
    ];
    for (const [args, expected] of cases) {
      const run = await runCli(hookflow, ['events', 'list', ...args, '--json']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(ids(JSON.parse(run.stdout) as Record<string, unknown>), expected, args.join(' '));
    }
    const text = await runCli(hookflow, ['events', 'list', '--status', 'failed']);
    assert.match(text.stdout, /checkout\.session\.completed {2}failed \(failed\).*ClerkRequestRejected/);

    const shown = await runCli(hookflow, ['events', 'show', events[4]!.id, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { event: { status: string } }).event.status, 'failed');

    const refused = await runCli(hookflow, ['events', 'list', '--status', 'sideways']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^hookflow events list: status must be one of received, processing, processed, failed/,
    );
    const missing = await runCli(hookflow, ['events', 'show', 'evt_doesnotexist']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No stored event evt_doesnotexist/);
  });
});

/**
 * The list must not regress to a scan (FerretDB decodes every document of a scanned collection in
 * Go: 80 s at 100,000 events). The query EventStore.listEvents sends is captured and explained:
 * SQLite must search an index, with the sort and the limit pushed down. Nothing is timed.
 */
describe('support list query plans on the embedded database', () => {
  let connection: Connection;
  const finds: Array<Record<string, unknown>> = [];

  before(async () => {
    const { testStack } = await import('./setup/global-stack');
    connection = mongoose.createConnection(testStack().stack.mongoUrl(`hookflow_list_plans_${uniqueId('db')}`), {
      autoIndex: false,
      monitorCommands: true,
      retryWrites: false,
    });
    await connection.asPromise();
    openStores(connection);
    await Promise.all(Object.values(connection.models).map((model) => model.createIndexes()));
    connection.getClient().on('commandStarted', (event) => {
      if (event.commandName === 'find') finds.push(event.command as Record<string, unknown>);
    });
  });
  after(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  const filters: Array<[string, Record<string, unknown>]> = [
    ['newest', {}],
    ['status', { status: 'failed' }],
    ['type wildcard', { type: 'charge.dispute.*' }],
    ['exact type', { type: 'invoice.paid' }],
    ['object', { objectId: 'ch_123' }],
    ['customer', { customerId: 'cus_123' }],
    ['connected account', { account: 'acct_123' }],
    ['time window and cursor', { since: new Date(Date.now() - 3_600_000), until: new Date(), before: '2026-' }],
  ];
  for (const [name, filter] of filters) {
    it(`serves the ${name} list from an index with sort and limit pushed down`, async () => {
      const { stores } = openStores(connection);
      finds.length = 0;
      await stores.events.listEvents({ tenantId: 'default', ...filter }, 50);
      const find = finds.find((command) => command.find === 'stripe_events');
      assert.ok(find, 'listEvents sent a find');
      const explained = (await connection.db!.command({
        explain: { find: 'stripe_events', filter: find.filter, sort: find.sort, limit: find.limit },
        verbosity: 'queryPlanner',
      })) as Record<string, unknown>;
      const plan = JSON.stringify(explained.queryPlanner);
      assert.match(plan, /USING INDEX/, `expected an index search, got ${plan}`);
      assert.doesNotMatch(plan, /detail=SCAN /, plan);
      assert.equal(explained.filterPushdown, true, 'filter pushed down');
      assert.equal(explained.sortPushdown, true, 'sort pushed down');
      assert.equal(explained.limitPushdown, true, 'limit pushed down');
    });
  }
});
