import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { eventWorkflowId } from '../src/contracts';
import { connectDatabase, type Database } from '../src/db/connection';
import { createLogger } from '../src/logger';
import { summarizeEvent } from '../src/stripe/event-summary';
import { connectTemporal, type TemporalClient } from '../src/temporal/client';
import { startEventWorkflow, type StartEventWorkflowInput } from '../src/temporal/event-workflows';
import { createReconciler, type ReconcilerFailureReason } from '../src/worker/reconciler';
import { testStack } from './setup/global-stack';
import { stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';

/**
 * Issue 9: events whose workflow could never start were retried by the reconciler on every pass,
 * forever, and ~100 of them starved every newer deferred event. Here the events are stored directly
 * (as a receiver without today's input checks would have): the reconciler must end each one as
 * `failed` with the reason, and keep starting newer events meanwhile.
 */
describe('poison events in the reconciler', () => {
  let db: Database;
  let temporal: TemporalClient;
  const log = createLogger('silent');
  const taskQueue = `hookflow-poison-${randomBytes(4).toString('hex')}`;

  before(async () => {
    db = await connectDatabase(testStack().stack.mongoUrl(`hookflow_poison_${randomBytes(4).toString('hex')}`));
    temporal = await connectTemporal({ address: testStack().stack.temporalAddress, namespace: 'default', taskQueue });
  });
  after(async () => {
    await temporal?.close();
    await db?.connection.dropDatabase();
    await db?.close();
  });
  beforeEach(async () => {
    await db.models.Inbox.deleteMany({});
  });

  async function store(id?: string, objectId = uniqueId('cus')) {
    const event = stripeEvent('customer.updated', stripeObject('customer', { id: objectId }), id ? { id } : {});
    const summary = summarizeEvent(event);
    await db.stores.events.recordReceived({
      tenantId: 'default',
      summary,
      rawBody: JSON.stringify(event),
      workflowId: eventWorkflowId('default', event.id),
    });
    return event;
  }

  function recorder() {
    const failures: ReconcilerFailureReason[] = [];
    let pending = -1;
    return {
      failures,
      pending: () => pending,
      observe: {
        failure: (reason: ReconcilerFailureReason) => failures.push(reason),
        inboxPending: (events: number) => (pending = events),
      },
    };
  }

  it('marks an event failed with the reason when Temporal refuses its start (workflow id over 1,000 characters)', async () => {
    const event = await store(`evt_${'x'.repeat(1_100)}`);
    const seen = recorder();
    const reconciler = createReconciler({
      events: db.stores.events,
      startWorkflow: (input) => startEventWorkflow(temporal.client, taskQueue, input),
      log,
      afterSeconds: 0,
      intervalSeconds: 60,
      observe: seen.observe,
    });
    await reconciler.reconcileOnce();
    const stored = await db.stores.events.find('default', event.id);
    assert.equal(stored?.status, 'failed');
    assert.equal(stored?.outcome, 'failed');
    assert.match(String(stored?.error), /Temporal refused/);
    assert.deepEqual(seen.failures, ['rejected']);
    assert.equal(seen.pending(), 1, 'the gauge saw the entry');
    assert.equal(await db.models.Inbox.countDocuments({}), 0, 'it left the inbox');
  });

  it('marks an event failed once its retryable start failures exceed the budget', async () => {
    const event = await store();
    const seen = recorder();
    const reconciler = createReconciler({
      events: db.stores.events,
      startWorkflow: () => Promise.reject(Object.assign(new Error('internal'), { code: 13 })),
      log,
      afterSeconds: 0,
      intervalSeconds: 60,
      maxAttempts: 3,
      retryDelayMs: () => 0,
      observe: seen.observe,
    });
    for (let pass = 0; pass < 5; pass++) await reconciler.reconcileOnce();
    const stored = await db.stores.events.find('default', event.id);
    assert.equal(stored?.status, 'failed');
    assert.match(String(stored?.error), /failed 3 times; last error: Error: internal/);
    assert.deepEqual(seen.failures, ['retryable', 'retryable', 'retryable', 'budget_exhausted']);
    assert.equal(await db.models.Inbox.countDocuments({}), 0);
  });

  it('keeps starting newer events while 150 failing ones back off ahead of them', async () => {
    const poison = new Set<string>();
    for (let index = 0; index < 150; index++) poison.add((await store()).id);
    const started: string[] = [];
    const startWorkflow = async (input: StartEventWorkflowInput) => {
      if (poison.has(input.summary.eventId)) throw Object.assign(new Error('try later'), { code: 13 });
      started.push(input.summary.eventId);
    };
    const reconciler = createReconciler({
      events: db.stores.events,
      startWorkflow,
      log,
      afterSeconds: 0,
      intervalSeconds: 60,
      batchSize: 100,
    });
    await reconciler.reconcileOnce();
    await reconciler.reconcileOnce();
    const fresh = await store();
    await reconciler.reconcileOnce();
    assert.deepEqual(started, [fresh.id], 'the newer event started though 150 failing entries are older');
    const entries = await db.stores.events.inboxEntries(1_000);
    assert.equal(entries.length, 150, 'the failing ones wait, each with its own backoff');
    assert.ok(entries.every((entry) => entry.attempts === 1 && entry.notBefore.getTime() > Date.now()));
  });

  it('counts a Temporal outage against no event: the pass stops and the entry keeps its budget', async () => {
    const first = await store();
    const seen = recorder();
    let calls = 0;
    const reconciler = createReconciler({
      events: db.stores.events,
      startWorkflow: () => {
        calls++;
        return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 14 }));
      },
      log,
      afterSeconds: 0,
      intervalSeconds: 60,
      maxAttempts: 1,
      observe: seen.observe,
    });
    await store();
    await reconciler.reconcileOnce();
    await reconciler.reconcileOnce();
    assert.equal(calls, 2, 'one attempt per pass, not one per event');
    assert.deepEqual(seen.failures, ['unavailable', 'unavailable']);
    const stored = await db.stores.events.find('default', first.id);
    assert.equal(stored?.status, 'received', 'not marked failed: the outage is not its fault');
    const entries = await db.stores.events.inboxEntries(10);
    assert.equal(entries.length, 2);
    assert.ok(entries.every((entry) => entry.attempts === 0));
  });

  it('marks an event failed when its stored body cannot be read back', async () => {
    const event = await store();
    await db.models.StripeEvent.updateOne({ _id: `default:${event.id}` }, { $set: { rawBody: '\ufeff{not json' } });
    const seen = recorder();
    const reconciler = createReconciler({
      events: db.stores.events,
      startWorkflow: () => Promise.resolve(),
      log,
      afterSeconds: 0,
      intervalSeconds: 60,
      observe: seen.observe,
    });
    await reconciler.reconcileOnce();
    const stored = await db.stores.events.find('default', event.id);
    assert.equal(stored?.status, 'failed');
    assert.match(String(stored?.error), /cannot be read back/);
    assert.deepEqual(seen.failures, ['unparseable']);
  });
});
