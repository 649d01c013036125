import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, type StripeEventPayload } from './helpers/stripe-events';
import { listWorkflows, SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { ADMIN_TOKEN, api, runCli } from './helpers/support';

describe('Stripe Connect accounts', function () {
  this.timeout(120_000);
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow({ HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  after(async () => {
    await hookflow?.close();
  });

  /** `acct_` + letters and digits, fresh per test so nothing else in the database matches. */
  const accountId = () => `acct_${randomBytes(6).toString('hex')}`;

  function onAccount<T extends StripeEventPayload>(event: T, account: string): T & { account: string } {
    return { ...event, account };
  }

  function connectEvent(account: string): StripeEventPayload & { account: string } {
    return onAccount(
      stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus'), name: account })),
      account,
    );
  }

  async function deliverAndProcess(event: StripeEventPayload): Promise<void> {
    assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
    assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'processed');
  }

  it('records the connected account on the event, the object state and the StripeAccountId search attribute', async () => {
    const one = connectEvent('acct_1');
    const two = connectEvent('acct_2');
    for (const event of [one, two]) await deliverAndProcess(event);
    const byAccount = async (account: string) => ({
      events: await hookflow.db.models.StripeEvent.find({ account }).lean(),
      states: await hookflow.db.models.ObjectState.find({ account }).lean(),
    });
    const first = await byAccount('acct_1');
    const second = await byAccount('acct_2');
    assert.deepEqual(
      first.events.map((event) => event.eventId),
      [one.id],
    );
    assert.deepEqual(
      second.events.map((event) => event.eventId),
      [two.id],
    );
    assert.deepEqual(
      first.states.map((state) => state.objectId),
      [one.data.object.id],
    );
    assert.deepEqual(
      second.states.map((state) => state.objectId),
      [two.data.object.id],
    );
    const inTemporal = await listWorkflows(
      hookflow,
      `StripeAccountId = 'acct_1' AND TaskQueue = '${hookflow.config.temporal.taskQueue}'`,
      1,
    );
    assert.deepEqual(
      inTemporal.map((run) => run.workflowId),
      [`stripe-event:default:${one.id}`],
    );
  });

  it('finds the events of one connected account through the API and the CLI', async () => {
    const [first, second] = [accountId(), accountId()];
    // Same resource type on both accounts, and one platform event: only the account tells them apart.
    const firstEvents = [connectEvent(first), connectEvent(first)];
    const secondEvent = connectEvent(second);
    const platformEvent = stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
    for (const event of [...firstEvents, secondEvent, platformEvent]) await deliverAndProcess(event);
    const newestFirst = [...firstEvents].reverse().map((event) => event.id);
    const ids = (body: { events: Array<{ eventId: string }> }) => body.events.map((event) => event.eventId);

    const listed = await api(hookflow, 'GET', `/api/events?account=${first}`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(ids(listed.body as never), newestFirst);
    assert.ok((listed.body.events as Array<{ account: string }>).every((event) => event.account === first));
    const combined = await api(hookflow, 'GET', `/api/events?account=${second}&type=customer.updated`);
    assert.deepEqual(ids(combined.body as never), [secondEvent.id]);
    const refused = await api(hookflow, 'GET', '/api/events?account=cus_123');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'invalid_filter');

    const cli = await runCli(hookflow, ['events', 'list', '--account', second, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(ids(JSON.parse(cli.stdout) as never), [secondEvent.id]);
    const text = await runCli(hookflow, ['events', 'show', secondEvent.id]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`account ${second}`));
  });

  it('opens a dispute case that carries the account, and lists cases by account', async () => {
    const account = accountId();
    const disputeId = uniqueId('dp');
    await deliverAndProcess(
      onAccount(stripeEvent('charge.dispute.created', stripeObject('dispute', { id: disputeId })), account),
    );
    const shown = await api(hookflow, 'GET', `/api/cases/case_${disputeId}?tenant=default`);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.equal(shown.body.case.account, account);
    const listed = await api(hookflow, 'GET', `/api/cases?account=${account}`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.deepEqual(
      (listed.body.cases as Array<{ caseId: string }>).map((entry) => entry.caseId),
      [`case_${disputeId}`],
    );
    assert.deepEqual((await api(hookflow, 'GET', `/api/cases?account=${accountId()}`)).body.cases, []);
  });

  it('links a payment session and keeps the account of the charge on it', async () => {
    const account = accountId();
    const sessionId = uniqueId('ps');
    await deliverAndProcess(
      onAccount(
        stripeEvent(
          'charge.succeeded',
          stripeObject('charge', { id: uniqueId('ch'), metadata: { hookflow_session_id: sessionId } }),
        ),
        account,
      ),
    );
    const shown = await api(hookflow, 'GET', `/api/sessions/${sessionId}?tenant=default`);
    assert.equal(shown.status, 200, JSON.stringify(shown.body));
    assert.equal(shown.body.session.status, 'succeeded');
    assert.equal(shown.body.session.account, account);
  });
});
