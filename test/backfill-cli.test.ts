import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ResourceProgress } from '../workflows/backfill-stripe';
import { BACKFILL_PROGRESS_QUERY, backfillResourceWorkflowId } from '../src/contracts';
import { connectDatabase } from '../src/db/connection';
import { FakeStripe, generated } from '../src/fake-stripe/fake-stripe';
import { SNAPSHOT_RESOURCE_NAMES } from '../src/stripe/snapshot-resources';
import { connectTemporal } from '../src/temporal/client';
import { SECRET_A, startHookflow, type RunningHookflow } from './helpers/hookflow';
import { FAKE_KEY, runBackfill, stripeEnv } from './helpers/stripe-api';
import { runCli, startCliProcess, type CliRun } from './helpers/run-cli';
import { testStack } from './setup/global-stack';

function assertOneLineFailure(run: CliRun, pattern: RegExp): void {
  assert.equal(run.code, 1, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.errorLines.length, 1, `one line, got:\n${run.stderr}`);
  assert.match(run.errorLines[0]!, pattern);
}

/** The environment a CLI run needs to reach the same hookflow as `hookflow`. */
function cliEnv(hookflow: RunningHookflow, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MONGO_URL: hookflow.config.mongoUrl,
    TEMPORAL_ADDRESS: hookflow.config.temporal.address,
    TEMPORAL_TASK_QUEUE: hookflow.config.temporal.taskQueue,
    STRIPE_WEBHOOK_SECRET: SECRET_A,
    STRIPE_API_KEY: FAKE_KEY,
    ...extra,
  };
}

describe('hookflow backfill (CLI)', function () {
  this.timeout(180_000);
  let fake: FakeStripe;
  let fakeUrl: string;
  let hookflow: RunningHookflow;

  before(async () => {
    fake = new FakeStripe();
    fakeUrl = await fake.listen();
    hookflow = await startHookflow(stripeEnv(fakeUrl));
  });
  after(async () => {
    await hookflow?.close();
    await fake?.close();
  });

  it('refuses unknown resource names with one line listing the 14 it knows', async () => {
    const run = await runCli(['backfill', 'customer', 'customers', 'widget'], { STRIPE_API_KEY: FAKE_KEY });
    assertOneLineFailure(run, /^hookflow backfill: unknown resource 'customers', 'widget'; choose from customer, /);
    for (const name of SNAPSHOT_RESOURCE_NAMES) assert.ok(run.errorLines[0]!.includes(name), name);
  });

  it('refuses to start without a Stripe API key, in one line', async () => {
    assertOneLineFailure(
      await runCli(['backfill', 'all']),
      /^hookflow backfill: no Stripe API key: set STRIPE_API_KEY/,
    );
  });

  it('prints plain progress lines per resource when not on a terminal, and the total', async () => {
    fake.seed('coupon', 230);
    fake.seed('plan', 40);
    const run = await runCli(['backfill', 'coupon', 'plan'], cliEnv(hookflow, { STRIPE_API_BASE: fakeUrl }), {
      timeoutMs: 120_000,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^coupon: completed, 230 objects, 3 pages, [\d.]+ objects\/s$/m);
    assert.match(run.stdout, /^plan: completed, 40 objects, 1 pages, [\d.]+ objects\/s$/m);
    assert.match(run.stdout, /^backfill \S+ completed: 270 objects$/m);
    assert.ok(!run.stdout.includes('\u001b['), 'no terminal control sequences');
  });

  it('detaches, then reports status and attaches by run id', async () => {
    fake.seed('price', 150);
    const env = cliEnv(hookflow, { STRIPE_API_BASE: fakeUrl });
    const started = await runCli(['backfill', 'price', '--detach', '--json'], env);
    assert.equal(started.code, 0, started.stderr);
    const { runId } = JSON.parse(started.stdout) as { runId: string };
    const attached = await runCli(['backfill', 'attach', runId], env, { timeoutMs: 120_000 });
    assert.equal(attached.code, 0, attached.stderr);
    assert.match(attached.stdout, /^price: completed, 150 objects, 2 pages/m);
    const status = await runCli(['backfill', 'status', runId, '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const snapshot = JSON.parse(status.stdout) as { run: { state: string }; resources: ResourceProgress[] };
    assert.equal(snapshot.run.state, 'completed');
    assert.equal(snapshot.resources[0]!.objects, 150);
    assertOneLineFailure(
      await runCli(['backfill', 'status', 'nope'], env),
      /^hookflow backfill status: no backfill run 'nope'/,
    );
  });

  it('uses a stored tenant’s Stripe key read from stdin', async () => {
    const masterKey = randomBytes(32).toString('base64');
    const tenantId = `acme${randomBytes(3).toString('hex')}`;
    const env = { MONGO_URL: hookflow.config.mongoUrl, HOOKFLOW_MASTER_KEY: masterKey };
    const added = await runCli(
      ['tenants', 'add', tenantId, '--sandbox-secret', 'whsec_tenant_0123456789', '--stripe-api-key-file', '-'],
      env,
      { stdin: 'sk_test_tenant_abcdefgh\n' },
    );
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /stripe api keys: test key …efgh/);
    assert.ok(!added.stdout.includes('sk_test_tenant_abcdefgh'), 'the key is never printed');
    const wrong = await runCli(
      ['tenants', 'rotate-secret', tenantId, '--environment', 'live', '--stripe-api-key-file', '-'],
      env,
      {
        stdin: 'pk_live_nope',
      },
    );
    assertOneLineFailure(wrong, /^hookflow tenants: A Stripe API key is sk_live_…/);
    const db = await connectDatabase(hookflow.config.mongoUrl);
    try {
      const stored = await db.connection.collection('tenants').findOne({ tenantId });
      assert.ok(!JSON.stringify(stored).includes('sk_test_tenant_abcdefgh'), 'stored sealed');
    } finally {
      await db.close();
    }
    const noKey = await runCli(['backfill', 'customer', '--tenant', tenantId, '--environment', 'live'], {
      ...env,
      TEMPORAL_ADDRESS: hookflow.config.temporal.address,
    });
    assertOneLineFailure(noKey, new RegExp(`^hookflow backfill: no Stripe API key for tenant ${tenantId} \\(live\\)`));
  });
});

/** A worker process (killable) and direct Temporal and database connections, on a fresh queue and database. */
async function killableHookflow(fakeUrl: string) {
  const { stack } = testStack();
  const suffix = randomBytes(4).toString('hex');
  const env = {
    MONGO_URL: stack.mongoUrl(`hookflow_kill_${suffix}`),
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `hookflow-kill-${suffix}`,
    STRIPE_WEBHOOK_SECRET: SECRET_A,
    STRIPE_API_KEY: FAKE_KEY,
    STRIPE_API_BASE: fakeUrl,
    LOG_LEVEL: 'info',
  };
  const temporal = await connectTemporal({
    address: stack.temporalAddress,
    namespace: 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE,
  });
  const db = await connectDatabase(env.MONGO_URL);
  return {
    env,
    temporal,
    db,
    startWorker: () => startCliProcess(['worker'], env, /worker running/),
    async close() {
      await db.connection.dropDatabase();
      await db.close();
      await temporal.close();
    },
  };
}

/** The resource's progress once it has done `pages` pages. */
async function progressAfter(
  temporal: Awaited<ReturnType<typeof connectTemporal>>,
  runId: string,
  resource: string,
  pages: number,
): Promise<ResourceProgress | undefined> {
  const child = temporal.client.workflow.getHandle(backfillResourceWorkflowId('default', runId, resource));
  let progress: ResourceProgress | undefined;
  for (let waited = 0; waited < 120_000; waited += 100) {
    try {
      progress = await child.query<ResourceProgress>(BACKFILL_PROGRESS_QUERY);
      if (progress.pages >= pages) break;
    } catch {
      // The child is not started yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return progress;
}

describe('backfill after a worker is killed', function () {
  this.timeout(300_000);

  it('resumes from the page it was on: finished pages are never read again', async () => {
    // Slow pages, so the kill lands mid-run.
    const fake = new FakeStripe({ latencyMs: 250 });
    const fakeUrl = await fake.listen();
    const customers = fake.seed('customer', 1_200);
    const { env, temporal, db, startWorker, close } = await killableHookflow(fakeUrl);
    let worker = await startWorker();
    try {
      const { runId, handle } = await runBackfill(temporal.client, env.TEMPORAL_TASK_QUEUE, ['customer']);
      const before = await progressAfter(temporal, runId, 'customer', 4);
      assert.ok(before && before.pages >= 4, 'four pages done before the kill');
      worker.kill('SIGKILL');
      const pageRequests = () => fake.requests.filter((request) => request.path === '/v1/customers');
      const finishedCursors = pageRequests()
        .slice(0, before.pages)
        .map((request) => request.query.get('starting_after'));
      worker = await startWorker();
      const result = await handle.result();
      assert.equal(result.state, 'completed');

      const cursors = pageRequests().map((request) => request.query.get('starting_after'));
      for (const cursor of finishedCursors) {
        assert.equal(cursors.filter((seen) => seen === cursor).length, 1, `finished page after ${cursor} read once`);
      }
      // 12 pages; at most the page in flight at the kill is read a second time.
      const distinct = new Set(cursors);
      assert.equal(distinct.size, 12);
      assert.ok(cursors.length <= 13, `${cursors.length} list requests for 12 pages`);
      const rows = await db.models.ObjectState.find({ tenantId: 'default' }).select({ objectId: 1, source: 1 }).lean();
      assert.equal(rows.length, 1_200);
      assert.deepEqual(new Set(rows.map((row) => row.objectId)), new Set(customers.map((customer) => customer.id)));
    } finally {
      worker.kill('SIGKILL');
      await close();
      await fake.close();
    }
  });

  it('resumes a payment_method walk at the customer and page it was on', async () => {
    const fake = new FakeStripe({ latencyMs: 250 });
    const fakeUrl = await fake.listen();
    const customers = fake.seed('customer', 30);
    const methods = customers.flatMap((customer) =>
      Array.from({ length: 3 }, (_, nth) =>
        generated('payment_method', customer.created - nth, { customer: customer.id }),
      ),
    );
    fake.add('payment_method', methods);
    const { env, temporal, db, startWorker, close } = await killableHookflow(fakeUrl);
    let worker = await startWorker();
    try {
      const { runId, handle } = await runBackfill(temporal.client, env.TEMPORAL_TASK_QUEUE, ['payment_method']);
      const before = await progressAfter(temporal, runId, 'payment_method', 6);
      assert.ok(before && before.pages >= 6, 'six requests done before the kill');
      worker.kill('SIGKILL');
      const requestKey = (request: (typeof fake.requests)[number]) =>
        `${request.path}?${request.query.get('starting_after') ?? ''}`;
      const finished = fake.requests.slice(0, before.pages).map(requestKey);
      worker = await startWorker();
      assert.equal((await handle.result()).state, 'completed');

      const keys = fake.requests.map(requestKey);
      for (const key of finished) assert.equal(keys.filter((seen) => seen === key).length, 1, `${key} read once`);
      // One customers page and one page per customer; at most the request in flight at the kill twice.
      assert.equal(new Set(keys).size, 31);
      assert.ok(keys.length <= 32, `${keys.length} requests for 31 pages`);
      assert.equal(fake.count(/^\/v1\/customers$/), 1, 'the customers page is not read again');
      const rows = await db.models.ObjectState.find({ tenantId: 'default' }).select({ objectId: 1, source: 1 }).lean();
      assert.deepEqual(new Set(rows.map((row) => row.objectId)), new Set(methods.map((method) => method.id)));
      assert.equal(rows.length, 90);
      assert.ok(rows.every((row) => row.source === 'snapshot'));
    } finally {
      worker.kill('SIGKILL');
      await close();
      await fake.close();
    }
  });
});
