import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { createEventActivities } from '../activities/event-activities';
import { eventWorkflowId } from '../src/contracts';
import { ensureStoreIndexes, openStores, type Stores } from '../src/stores';
import { summarizeEvent } from '../src/stripe/event-summary';
import { parseAllowList } from '../src/outbound/ssrf-guard';
import { createEndpointStore } from '../src/stores/endpoint-store';
import { createSecretBox } from '../src/tenants/secret-box';
import { testStack } from './setup/global-stack';
import { startFakeMerchant, type FakeMerchant } from './helpers/fake-merchant';
import { deliverEvent, stripeEvent, stripeObject, uniqueId, subscriptionCheckout } from './helpers/stripe-events';
import { SECRET_A, startHookflow, waitForEventStatus, workflowResult, type RunningHookflow } from './helpers/hookflow';

/**
 * The hot path must stay O(log n) as collections grow. FerretDB's SQLite backend serves an exact
 * `{_id: <string>}` filter from an index only with the patched build (scripts/bootstrap.sh); the
 * only other filters it serves from an index are `find`s on the fields of `…__pushdown` indexes
 * (the support list: scripts/ferretdb-pushdown.patch, test/ferretdb-pushdown.test.ts). Every other
 * filter, and every update or delete not by `_id`, decodes the whole collection in Go. These tests
 * fail when the patch is missing or when a per-event database command stops being an `_id` lookup
 * — without timing anything.
 */
describe('store query plans on the embedded database', () => {
  let connection: Connection;
  let stores: Stores;
  const commands: Array<{ name: string; collection: string; filters: unknown[] }> = [];

  before(async () => {
    connection = mongoose.createConnection(testStack().stack.mongoUrl(`hookflow_plans_${uniqueId('db')}`), {
      autoIndex: false,
      monitorCommands: true,
      retryWrites: false,
    });
    await connection.asPromise();
    stores = openStores(connection).stores;
    await ensureStoreIndexes(connection);
    connection.getClient().on('commandStarted', (event) => {
      const command = event.command as Record<string, unknown>;
      commands.push({
        name: event.commandName,
        collection: String(command[event.commandName]),
        filters: filtersOf(command),
      });
    });
  });
  after(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('answers an _id lookup of a stored event from the index (the patched FerretDB build)', async () => {
    const event = stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
    await stores.events.recordReceived(received(event));
    const plan = await explainFind('stripe_events', { _id: `default:${event.id}` });
    assert.match(plan, /USING INDEX/, `expected an index search, got: ${plan}`);
    assert.doesNotMatch(plan, /\bSCAN\b/);
  });

  it('stores, applies and records events of every shape with _id lookups only', async () => {
    const invoice = stripeObject('invoice', { id: uniqueId('in') });
    const events = [
      stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') })),
      stripeEvent('invoice.paid', invoice),
      stripeEvent('product.deleted', stripeObject('product', { id: uniqueId('prod') })),
    ];
    const activities = createEventActivities({ stores, state: { resources: '*', unselected: 'store' } });
    commands.length = 0;
    const batch = await stores.events.recordBatch(events.map(received));
    for (const event of events) await activities.applyEventToState({ tenantId: 'default', eventId: event.id });
    await stores.events.releaseInbox(batch.inboxId);

    const reads = commands.filter((command) => ['find', 'update', 'delete'].includes(command.name));
    assert.ok(reads.length >= events.length * 3, `expected the per-event reads and writes, saw ${reads.length}`);
    for (const command of reads) {
      for (const filter of command.filters) {
        // A lock is released only by its owner ({_id, owner}): a scan, but of the locks collection,
        // which holds only the locks held right now, whatever the number of stored events.
        const ownedRelease = command.collection === 'locks' && command.name === 'delete' && hasIdEquality(filter);
        assert.ok(
          isIdEquality(filter) || ownedRelease,
          `${command.name} on ${command.collection} filters by ${JSON.stringify(filter)}`,
        );
      }
    }
    for (const event of events) {
      const stored = await stores.events.find('default', event.id);
      assert.equal(stored?.status, 'processed', 'a state-only event is finished by its one activity');
    }
  });

  it('reads the reconciler work list with a pushed-down limit, not a filtered scan', async () => {
    commands.length = 0;
    await stores.events.inboxEntries(100);
    const find = commands.find((command) => command.name === 'find' && command.collection === 'event_inbox');
    assert.ok(find, 'the inbox was read');
    assert.deepEqual(find.filters, [{}], 'unfiltered, so FerretDB pushes the LIMIT down');
  });

  async function explainFind(collection: string, filter: Record<string, unknown>): Promise<string> {
    const explained = await connection.db!.command({
      explain: { find: collection, filter },
      verbosity: 'queryPlanner',
    });
    return JSON.stringify((explained as { queryPlanner?: unknown }).queryPlanner);
  }
});

describe('per-event cost through the real stack', () => {
  let hookflow: RunningHookflow;
  let merchant: FakeMerchant;
  before(async () => {
    merchant = await startFakeMerchant(() => ({ status: 200 }));
    hookflow = await startHookflow({
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
      HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
    });
  });
  after(async () => {
    await hookflow?.close();
    await merchant?.close();
  });

  /** Delivers the event, waits for its outcome, and counts entries of its workflow's history. */
  async function processedHistory(event: ReturnType<typeof stripeEvent>) {
    assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
    const stored = await waitForEventStatus(hookflow, event.id);
    await workflowResult(hookflow, eventWorkflowId('default', event.id));
    const handle = hookflow.temporal.client.workflow.getHandle(eventWorkflowId('default', event.id));
    const events = (await handle.fetchHistory()).events ?? [];
    type Entry = (typeof events)[number];
    const count = (attribute: keyof Entry) => events.filter((entry) => entry[attribute]).length;
    return { stored, count };
  }

  it('runs a state-only event as one local activity and one search-attribute upsert', async () => {
    const event = stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }));
    const { count } = await processedHistory(event);
    assert.equal(count('markerRecordedEventAttributes'), 1, 'one local activity');
    assert.equal(count('activityTaskScheduledEventAttributes'), 0, 'no scheduled activity');
    assert.equal(
      count('upsertWorkflowSearchAttributesEventAttributes'),
      1,
      'the outcome is the only search attribute set after the start',
    );
  });

  it('runs a Clerk event of a tenant without a Clerk key locally, not through the rate-limited Clerk queue', async () => {
    const event = subscriptionCheckout(uniqueId('org'));
    const { stored, count } = await processedHistory(event);
    assert.equal(stored.status, 'processed');
    assert.equal(stored.outcome, 'clerk_not_configured');
    assert.equal(count('markerRecordedEventAttributes'), 1, 'state, Clerk handler and outcome: one local activity');
    assert.equal(count('activityTaskScheduledEventAttributes'), 0, 'nothing waits for the Clerk queue');
  });

  it('opens a dispute case and records its outcome in the local activity that writes the object state', async () => {
    const dispute = stripeObject('dispute', { id: uniqueId('dp'), status: 'needs_response' });
    const { stored, count } = await processedHistory(stripeEvent('charge.dispute.created', dispute));
    assert.equal(stored.status, 'processed');
    assert.equal(stored.outcome, 'case_opened');
    assert.equal(count('markerRecordedEventAttributes'), 1, 'state, case and outcome: one local activity');
    assert.equal(count('upsertWorkflowSearchAttributesEventAttributes'), 1);
  });

  it('queues the messages that activity stored for an endpoint, then records the outcome', async () => {
    const endpoints = createEndpointStore(hookflow.db.connection, {
      allow: parseAllowList('127.0.0.1/32'),
      secrets: createSecretBox(hookflow.config.tenants.masterKey!),
    });
    await endpoints.create({ tenantId: 'default', url: merchant.url, eventTypes: ['*'] });
    const disputeId = uniqueId('dp');
    const dispute = stripeObject('dispute', { id: disputeId, status: 'needs_response' });
    const { stored, count } = await processedHistory(stripeEvent('charge.dispute.created', dispute));
    assert.equal(stored.outcome, 'case_opened');
    // State + case + storing both messages, one signal-with-start per message, the outcome.
    assert.equal(count('markerRecordedEventAttributes'), 4);
    const deadline = Date.now() + 30_000;
    while (merchant.received.filter((request) => request.body.includes(disputeId)).length < 2) {
      assert.ok(Date.now() < deadline, 'dispute.created and case.created reach the endpoint');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});

function received(event: ReturnType<typeof stripeEvent>) {
  return {
    tenantId: 'default',
    summary: summarizeEvent(event),
    rawBody: JSON.stringify(event),
    workflowId: eventWorkflowId('default', event.id),
  };
}

/** The query filters of a find / update / delete command. */
function filtersOf(command: Record<string, unknown>): unknown[] {
  if ('filter' in command) return [command.filter ?? {}];
  if (Array.isArray(command.updates)) return command.updates.map((update: { q: unknown }) => update.q);
  if (Array.isArray(command.deletes)) return command.deletes.map((entry: { q: unknown }) => entry.q);
  return [];
}

function hasIdEquality(filter: unknown): boolean {
  return !!filter && typeof filter === 'object' && typeof (filter as { _id?: unknown })._id === 'string';
}

function isIdEquality(filter: unknown): boolean {
  return hasIdEquality(filter) && Object.keys(filter as object).length === 1;
}
