import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { connectDatabase } from '../src/db/connection';
import { createLogger } from '../src/logger';
import { createApp, type AppDeps } from '../src/receiver/app';
import { createSingleTenantResolver } from '../src/receiver/tenants';
import { summarizeEvent } from '../src/stripe/event-summary';
import { startEventWorkflow } from '../src/temporal/event-workflows';
import { createReconciler } from '../src/worker/reconciler';
import { deliverEvent, stripeEvent, stripeObject, uniqueId } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';

const log = createLogger('silent');

describe('durability when a dependency is down', () => {
  let hookflow: RunningHookflow;
  const servers: Server[] = [];
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await hookflow?.close();
  });

  /** The worker's reconciler on the test stack, with its age thresholds chosen by the test. */
  function reconcilerWith(ages: { afterSeconds?: number }) {
    return createReconciler({
      events: hookflow.db.stores.events,
      startWorkflow: (input) => startEventWorkflow(hookflow.temporal.client, hookflow.config.temporal.taskQueue, input),
      log,
      afterSeconds: ages.afterSeconds ?? 3600,
      intervalSeconds: 60,
    });
  }

  /** A receiver on the test database with one dependency replaced (a Temporal that is down, …). */
  async function receiverWith(overrides: Partial<AppDeps>): Promise<string> {
    const { app } = createApp({
      log,
      events: hookflow.db.stores.events,
      resolveTenant: createSingleTenantResolver('default', [SECRET_A]),
      startWorkflow: (input) => startEventWorkflow(hookflow.temporal.client, hookflow.config.temporal.taskQueue, input),
      readiness: {},
      bodyLimitBytes: 1024 * 1024,
      intake: hookflow.config.intake,
      toleranceSeconds: 300,
      ...overrides,
    });
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((resolve) => server.once('listening', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`;
  }

  it('acknowledges a stored event while Temporal is unreachable, and the reconciler starts it later', async () => {
    const temporalDown = async () => {
      throw new Error('14 UNAVAILABLE: connect ECONNREFUSED');
    };
    const url = await receiverWith({ startWorkflow: temporalDown });
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));

    const response = await deliverEvent(url, event, SECRET_A);

    assert.equal(response.status, 200, 'stored durably, so Stripe gets its 2xx');
    const stored = await hookflow.db.models.StripeEvent.findOne({ eventId: event.id }).lean();
    assert.equal(stored?.status, 'received');
    assert.equal(
      await hookflow.db.models.Inbox.countDocuments({ eventKeys: `default:${event.id}` }),
      1,
      'on the reconciler list',
    );

    assert.ok((await reconcilerWith({ afterSeconds: 0 }).reconcileOnce()) >= 1);
    const processed = await waitForEventStatus(hookflow, event.id);
    assert.equal(processed.status, 'processed');
    assert.ok(await hookflow.db.models.ObjectState.findOne({ objectId: event.data.object.id }).lean());
  });

  it('starts an event whose receiver died after storing it, before starting its workflow', async () => {
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));
    const ledger = hookflow.db.stores.events;
    await ledger.recordReceived({
      tenantId: 'default',
      summary: summarizeEvent(event),
      rawBody: JSON.stringify(event),
      workflowId: `stripe-event:default:${event.id}`,
    });

    assert.ok((await reconcilerWith({ afterSeconds: 0 }).reconcileOnce()) >= 1);
    assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'processed');
  });

  it('answers 200 without waiting for a workflow start that hangs, leaving the event to the reconciler', async () => {
    const url = await receiverWith({ startWorkflow: () => new Promise<never>(() => undefined) });
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));

    const response = await deliverEvent(url, event, SECRET_A);

    assert.equal(response.status, 200);
    assert.equal(response.body.duplicate, false);
    const stored = await hookflow.db.models.StripeEvent.findOne({ eventId: event.id }).lean();
    assert.equal(stored?.status, 'received', 'stored, waiting for the reconciler');
  });

  it('answers 503 and stores nothing when MongoDB is unreachable, so Stripe retries', async () => {
    const db = await connectDatabase(hookflow.config.mongoUrl);
    await db.close();
    let started = false;
    const url = await receiverWith({
      events: db.stores.events,
      startWorkflow: async () => {
        started = true;
      },
    });
    const event = stripeEvent('customer.created', stripeObject('customer', { id: uniqueId('cus') }));

    const response = await deliverEvent(url, event, SECRET_A);

    assert.equal(response.status, 503);
    assert.equal((response.body.error as { code: string }).code, 'store_unavailable');
    assert.equal(started, false, 'no workflow for an event that is not stored');
    assert.equal(await hookflow.db.models.StripeEvent.countDocuments({ eventId: event.id }), 0);
  });
});
