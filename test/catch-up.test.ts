import assert from 'node:assert/strict';
import { FakeStripe } from '../src/fake-stripe/fake-stripe';
import { catchUpScheduleId } from '../src/temporal/catch-up-schedule';
import {
  deliverEvent,
  stripeEvent,
  stripeObject,
  uniqueId,
  type StripeEventPayload,
  type StripeObject,
} from './helpers/stripe-events';
import { listWorkflows, SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { runCli } from './helpers/run-cli';
import { FAKE_KEY, stripeEnv } from './helpers/stripe-api';

describe('catch-up from the Events API', function () {
  this.timeout(180_000);
  let fake: FakeStripe;
  let fakeUrl: string;
  let hookflow: RunningHookflow;

  before(async () => {
    fake = new FakeStripe();
    fakeUrl = await fake.listen();
    // The schedule of the default tenant: an hour apart, so only a manual trigger runs it here.
    hookflow = await startHookflow({ ...stripeEnv(fakeUrl), CATCHUP_SCHEDULE: '1h', CATCHUP_WINDOW: '2h' });
  });
  after(async () => {
    await hookflow.temporal.client.schedule
      .getHandle(catchUpScheduleId('default'))
      .delete()
      .catch(() => undefined);
    await hookflow?.close();
    await fake?.close();
  });

  const cli = (args: string[]) =>
    runCli(args, {
      MONGO_URL: hookflow.config.mongoUrl,
      TEMPORAL_ADDRESS: hookflow.config.temporal.address,
      TEMPORAL_TASK_QUEUE: hookflow.config.temporal.taskQueue,
      STRIPE_WEBHOOK_SECRET: SECRET_A,
      STRIPE_API_KEY: FAKE_KEY,
      STRIPE_API_BASE: fakeUrl,
    });

  function event(minutesAgo: number): StripeEventPayload {
    const created = Math.floor(Date.now() / 1000) - minutesAgo * 60;
    return stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus'), name: `${minutesAgo}` }), {
      created,
    });
  }

  it('processes events never delivered once, leaves stored ones alone, and finds nothing new the second time', async () => {
    const delivered = [event(50), event(40)];
    const missed = [event(30), event(20), event(10)];
    const tooOld = event(90);
    for (const payload of delivered) {
      assert.equal((await deliverEvent(hookflow.webhookUrl, payload, SECRET_A)).status, 200);
      await waitForEventStatus(hookflow, payload.id);
    }
    const before = await hookflow.db.models.StripeEvent.find({ eventId: { $in: delivered.map((e) => e.id) } }).lean();
    for (const payload of [...delivered, ...missed, tooOld]) {
      fake.addEvent(payload as unknown as StripeObject & { created: number }, {
        delivered: delivered.includes(payload),
      });
    }

    const first = await cli(['catch-up', '--since', '1h', '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(pickCounts(JSON.parse(first.stdout)), { seen: 5, alreadyStored: 2, stored: 3, started: 3 });
    for (const payload of missed) {
      const stored = await waitForEventStatus(hookflow, payload.id);
      assert.equal(stored.status, 'processed');
      assert.equal(stored.workflowId, `stripe-event:default:${payload.id}`, 'the receiver’s workflow id');
      const state = await hookflow.db.models.ObjectState.findOne({ objectId: payload.data.object.id }).lean();
      assert.equal(state?.watermarkEventId, payload.id);
    }
    assert.equal(await hookflow.db.models.StripeEvent.countDocuments({ eventId: tooOld.id }), 0, 'older than --since');
    const after = await hookflow.db.models.StripeEvent.find({ eventId: { $in: delivered.map((e) => e.id) } }).lean();
    assert.deepEqual(
      after.map((doc) => [doc.rawBody, doc.receivedAt.getTime(), doc.status]),
      before.map((doc) => [doc.rawBody, doc.receivedAt.getTime(), doc.status]),
      'stored events untouched',
    );

    const second = await cli(['catch-up', '--since', '1h']);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /: 5 events seen, 5 already stored, 0 new stored, 0 workflows started$/m);

    // A Stripe retry arriving after the catch-up is a duplicate.
    const retry = await deliverEvent(hookflow.webhookUrl, missed[0]!, SECRET_A);
    assert.equal((retry.body as { duplicate: boolean }).duplicate, true);
  });

  it('runs from the Temporal Schedule CATCHUP_SCHEDULE sets up', async () => {
    const handle = hookflow.temporal.client.schedule.getHandle(catchUpScheduleId('default'));
    const description = await handle.describe();
    assert.equal(description.spec.intervals?.[0]?.every, 3_600_000);
    await handle.trigger();
    // The two CLI runs of the test above, then the scheduled one.
    const runs = await listWorkflows(
      hookflow,
      `WorkflowType = 'catchUpStripeEvents' AND TaskQueue = '${hookflow.config.temporal.taskQueue}' AND ExecutionStatus = 'Completed'`,
      3,
      60_000,
    );
    assert.ok(
      runs.some((run) => run.workflowId.startsWith('catch-up:default:scheduled')),
      `a scheduled catch-up run completed (runs: ${runs.map((run) => run.workflowId).join(', ')})`,
    );
  });

  it('refuses a --since that is neither a duration nor a date, in one line', async () => {
    const run = await cli(['catch-up', '--since', 'yesterday']);
    assert.equal(run.code, 1);
    assert.deepEqual(run.errorLines, [
      "hookflow catch-up: --since 'yesterday' is neither a duration (30m, 1h, 7d) nor a date (2026-11-01 or an ISO date-time).",
    ]);
  });
});

function pickCounts(result: Record<string, unknown>) {
  const { seen, alreadyStored, stored, started } = result;
  return { seen, alreadyStored, stored, started };
}
