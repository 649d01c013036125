import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTE_TYPES } from '../../src/contracts';
import { connectDatabase, type Database } from '../../src/db/connection';
import { freePort } from '../../src/stack/ports';
import {
  NAMESPACE_RETENTION_DAYS,
  NUM_HISTORY_SHARDS,
  POSTGRES_MAJOR,
  TEMPORAL_SERVER_VERSION,
} from '../../src/stack/prod-settings';
import { freeProdPorts, startProdInfra, type ProdInfra, type ProdInfraPorts } from '../../src/stack/prod-stack';
import { signatureHeader, stripeEvent, stripeObject, uniqueId } from '../../src/stripe/sample-events';
import { ensureDir, Infra, runLoad, send, sleep, Supervised, temporalReady, type Answer } from '../faults/harness';

/**
 * The production shape on this machine: temporal-server v1.28.1 on PostgreSQL (4 history shards,
 * SQL visibility), FerretDB, two `hookflow serve` and two `hookflow worker` processes. Every
 * scenario fails on a lost event, a second workflow run for one event or an event left pending, and
 * prints its figures. Load is modest on purpose: the suite must finish on a busy 2-core machine.
 */

const SECRET = `whsec_prod_${randomBytes(12).toString('hex')}`;
const TASK_QUEUE = 'hookflow-prod';
const DATABASE = 'hookflow_prod';
const run = promisify(execFile);

const started = Date.now();
function progress(message: string): void {
  process.stdout.write(`      [prod +${((Date.now() - started) / 1000).toFixed(0)}s] ${message}\n`);
}

interface Row {
  scenario: string;
  events: number;
  processed: number;
  duplicates: number;
  lost: number;
  stuck: number;
  eventsPerSecond: number;
  slowestSeconds: number;
  notes: string;
}
const table: Row[] = [];

describe('production shape (temporal-server on PostgreSQL, two receivers, two workers)', function () {
  this.timeout(10 * 60_000);
  let dataDir: string;
  let ports: ProdInfraPorts;
  let infra: ProdInfra;
  let db: Database;
  let connection: Connection;
  let temporal: Client;
  let temporalServer: Infra;
  const receivers: Supervised[] = [];
  const workers: Supervised[] = [];
  const receiverPorts: number[] = [];
  const metricsPorts: number[] = [];
  let failed = false;

  before(async function () {
    this.timeout(6 * 60_000);
    dataDir = mkdtempSync(join(tmpdir(), 'hookflow-prod-'));
    const logDir = ensureDir(join(dataDir, 'logs'));
    const begun = Date.now();
    ports = await freeProdPorts(true);
    infra = await startProdInfra({ dataDir, ports });
    progress(
      `infrastructure up in ${((Date.now() - begun) / 1000).toFixed(1)} s: Temporal ${infra.temporalAddress}, UI ${infra.uiUrl}`,
    );
    temporalServer = new Infra(
      'temporal-server',
      (argv) => argv[0]?.endsWith('temporal-server') === true && argv.includes(join(dataDir, 'temporal')),
      { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
      join(logDir, 'temporal-server-restarted.log'),
      () => temporalReady(infra.temporalAddress),
    );
    const env = (port: number, metricsPort: number): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      MONGO_URL: infra.mongoUrl(DATABASE),
      TEMPORAL_ADDRESS: infra.temporalAddress,
      TEMPORAL_NAMESPACE: infra.namespace,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      STRIPE_WEBHOOK_SECRET: SECRET,
      // Faster recovery than the defaults (30 s / 15 s), so the suite fits its time budget.
      RECONCILE_AFTER_SECONDS: '5',
      RECONCILE_INTERVAL_SECONDS: '2',
      WORKER_METRICS_PORT: String(metricsPort),
      SHUTDOWN_GRACE_SECONDS: '20',
    });
    for (let index = 1; index <= 2; index++) {
      const receiverPort = await freePort();
      const metricsPort = await freePort();
      receiverPorts.push(receiverPort);
      metricsPorts.push(metricsPort);
      // A receiver needs no metrics port and a worker no HTTP port; each gets its own anyway.
      receivers.push(
        new Supervised(
          `receiver-${index}`,
          'serve',
          { ...env(receiverPort, await freePort()), WORKER_METRICS_PORT: '' },
          join(logDir, `receiver-${index}.log`),
          async () => (await send(receiverPort, 'GET', '/healthz', undefined, {}, 2_000)).status === 200,
        ),
      );
      workers.push(
        new Supervised(
          `worker-${index}`,
          'worker',
          env(await freePort(), metricsPort),
          join(logDir, `worker-${index}.log`),
          async () => (await scrape(metricsPort)) !== undefined,
        ),
      );
    }
    await Promise.all([...workers, ...receivers].map((process) => process.start(120_000)));
    db = await connectDatabase(infra.mongoUrl(DATABASE));
    connection = await Connection.connect({ address: infra.temporalAddress });
    temporal = new Client({ connection, namespace: infra.namespace });
    progress(`two receivers (:${receiverPorts.join(', :')}) and two workers up; data ${dataDir}`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    this.timeout(3 * 60_000);
    printTable();
    await Promise.all(receivers.map((process) => process.close()));
    await Promise.all(workers.map((process) => process.close()));
    await connection?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await temporalServer?.close();
    await infra?.stop();
    if (dataDir && !failed && !process.env.PROD_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
    else if (dataDir) process.stdout.write(`  prod-suite data and logs kept in ${dataDir}\n`);
  });

  // --- helpers ------------------------------------------------------------------------------------

  function makeEvent(objectId = uniqueId('cus'), type = 'customer.updated') {
    const event = stripeEvent(type, stripeObject('customer', { id: objectId }));
    return { id: event.id, objectId, body: JSON.stringify(event) };
  }
  type TestEvent = ReturnType<typeof makeEvent>;

  interface Delivery {
    id: string;
    answers: Array<Answer & { receiver: number }>;
    ackAt: number | null;
    ackedBy: number | null;
  }

  /**
   * Delivers as Stripe through a load balancer: to receiver `first`, and on no answer or a 5xx to
   * the other one, with a short backoff, until a 2xx or a 4xx (bounded).
   */
  async function deliver(event: TestEvent, first: number, maxAttempts = 40): Promise<Delivery> {
    const delivery: Delivery = { id: event.id, answers: [], ackAt: null, ackedBy: null };
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const receiver = (first + attempt) % receiverPorts.length;
      const headers = { 'content-type': 'application/json', 'stripe-signature': signatureHeader(event.body, SECRET) };
      const answer = await send(receiverPorts[receiver]!, 'POST', '/webhooks/stripe', event.body, headers);
      delivery.answers.push({ ...answer, receiver });
      if (answer.status >= 200 && answer.status < 300) {
        delivery.ackAt = Date.now();
        delivery.ackedBy = receiver;
        return delivery;
      }
      if (answer.status >= 400 && answer.status < 500) return delivery;
      if (attempt % receiverPorts.length === receiverPorts.length - 1)
        await sleep(Math.min(250 * (attempt + 1), 2_000));
    }
    return delivery;
  }

  interface Settled {
    processed: number;
    lost: string[];
    stuck: string[];
    slowestSeconds: number;
    /** Seconds from the first send to the last event processed. */
    spanSeconds: number;
  }

  /** Waits until every acknowledged event is processed (or failed), at most `boundMs`. */
  async function settle(deliveries: Delivery[], sentAt: number, boundMs: number): Promise<Settled> {
    const acked = new Map(deliveries.filter((d) => d.ackAt !== null).map((d) => [d.id, d.ackAt!]));
    let pending = [...acked.keys()];
    const done = new Map<string, { status: string; processedAt?: Date | null }>();
    const deadline = Date.now() + boundMs;
    for (let round = 0; pending.length > 0 && Date.now() < deadline; round++) {
      if (round > 0) await sleep(1_000);
      const still: string[] = [];
      await runLoad(pending, 16, async (id) => {
        const doc = await db.models.StripeEvent.findOne({ _id: `default:${id}` })
          .select({ status: 1, processedAt: 1 })
          .lean()
          .catch(() => undefined);
        if (doc && (doc.status === 'processed' || doc.status === 'failed')) done.set(id, doc);
        else still.push(id);
      });
      pending = still;
    }
    let slowest = 0;
    let last = sentAt;
    for (const [id, ackAt] of acked) {
      const processedAt = done.get(id)?.processedAt?.getTime();
      if (processedAt === undefined) continue;
      slowest = Math.max(slowest, (processedAt - ackAt) / 1000);
      last = Math.max(last, processedAt);
    }
    const lost: string[] = [];
    const stuck: string[] = [];
    for (const id of pending) {
      const doc = await db.models.StripeEvent.findOne({ _id: `default:${id}` }).lean();
      if (doc) stuck.push(`${id} (${doc.status})`);
      else lost.push(id);
    }
    return {
      processed: [...done.values()].filter((doc) => doc.status === 'processed').length,
      lost,
      stuck,
      slowestSeconds: slowest,
      spanSeconds: (last - sentAt) / 1000,
    };
  }

  /** Workflow runs per event id, from SQL visibility: more than one run for an event is a duplicate. */
  async function runsPerEvent(ids: Iterable<string>): Promise<{ duplicates: number; missing: number }> {
    const wanted = new Set([...ids].map((id) => `stripe-event:default:${id}`));
    for (let attempt = 0; ; attempt++) {
      await sleep(1_500); // visibility is written asynchronously after each transition
      const runs = new Map<string, number>();
      for await (const execution of temporal.workflow.list({ query: `TaskQueue = '${TASK_QUEUE}'` })) {
        if (wanted.has(execution.workflowId)) runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
      }
      const duplicates = [...runs.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
      const missing = wanted.size - runs.size;
      if (missing === 0 || attempt >= 5) return { duplicates, missing };
    }
  }

  async function record(scenario: string, events: TestEvent[], deliveries: Delivery[], settled: Settled, notes = '') {
    const { duplicates, missing } = await runsPerEvent(events.map((event) => event.id));
    const row: Row = {
      scenario,
      events: new Set(deliveries.filter((d) => d.ackAt !== null).map((d) => d.id)).size,
      processed: settled.processed,
      duplicates,
      lost: settled.lost.length,
      stuck: settled.stuck.length,
      eventsPerSecond: Math.round((settled.processed / Math.max(settled.spanSeconds, 0.001)) * 10) / 10,
      slowestSeconds: Math.round(settled.slowestSeconds * 10) / 10,
      notes: missing > 0 ? `${notes}; ${missing} events without a workflow in visibility` : notes,
    };
    table.push(row);
    progress(`${scenario}: ${JSON.stringify(row)}`);
    if (settled.stuck.length > 0) progress(`stuck: ${settled.stuck.slice(0, 5).join(', ')}`);
    if (settled.lost.length > 0) progress(`lost: ${settled.lost.slice(0, 5).join(', ')}`);
    assert.equal(row.lost, 0, 'acknowledged events lost');
    assert.equal(row.stuck, 0, 'acknowledged events still pending past the bound');
    assert.equal(row.duplicates, 0, 'events run more than once');
    assert.equal(missing, 0, 'every event has its workflow in visibility');
    assert.equal(row.events, events.length, 'every event acknowledged');
    assert.equal(row.processed, events.length, 'every event processed');
    return row;
  }

  /** Sends `events` round-robin over both receivers, `concurrency` at once, at most `rate`/s. */
  async function sendAll(events: TestEvent[], concurrency: number, rate?: number) {
    const sentAt = Date.now();
    const deliveries = await runLoad(events, concurrency, (event, index) => deliver(event, index % 2), rate);
    return { sentAt, deliveries };
  }

  // --- scenarios ------------------------------------------------------------------------------------

  it(`runs temporal-server ${TEMPORAL_SERVER_VERSION} on PostgreSQL ${POSTGRES_MAJOR} with ${NUM_HISTORY_SHARDS} history shards, the namespace's retention and every search attribute`, async () => {
    const info = await connection.workflowService.getSystemInfo({});
    assert.equal(info.serverVersion, TEMPORAL_SERVER_VERSION);
    const shards = await psql('temporal', 'SELECT count(*) FROM shards');
    assert.equal(Number(shards), NUM_HISTORY_SHARDS);
    const namespace = await connection.workflowService.describeNamespace({ namespace: infra.namespace });
    assert.equal(Number(namespace.config?.workflowExecutionRetentionTtl?.seconds), NAMESPACE_RETENTION_DAYS * 86_400);
    const listed = await connection.operatorService.listSearchAttributes({ namespace: infra.namespace });
    const types = ['', 'Text', 'Keyword', 'Int', 'Double', 'Bool', 'Datetime', 'KeywordList'];
    const registered = Object.fromEntries(
      Object.entries(listed.customAttributes ?? {}).map(([name, type]) => [name, types[Number(type)]]),
    );
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) assert.equal(registered[name], type, name);
    // SQL visibility: the custom attributes live in PostgreSQL's visibility database.
    const engine = await psql(
      'temporal_visibility',
      "SELECT count(*) FROM information_schema.tables WHERE table_name = 'executions_visibility'",
    );
    assert.equal(Number(engine), 1);
    table.push({
      ...emptyRow(
        `temporal-server ${info.serverVersion}, ${shards} shards, ${Object.keys(SEARCH_ATTRIBUTE_TYPES).length} search attributes`,
      ),
    });
  });

  it('the Temporal UI server answers and reads the real server', async () => {
    const page = await fetch(`${infra.uiUrl}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/i);
    const namespaces = await fetch(`${infra.uiUrl}/api/v1/namespaces`);
    assert.equal(namespaces.status, 200);
    const body = (await namespaces.json()) as { namespaces?: Array<{ namespaceInfo?: { name?: string } }> };
    assert.ok(
      body.namespaces?.some((entry) => entry.namespaceInfo?.name === infra.namespace),
      'the UI lists the namespace',
    );
  });

  it('1,000 events spread over both receivers are processed exactly once across both workers', async () => {
    const events = Array.from({ length: 1_000 }, () => makeEvent());
    const { sentAt, deliveries } = await sendAll(events, 16, 100);
    const settled = await settle(deliveries, sentAt, 300_000);
    const byReceiver = [0, 1].map((receiver) => deliveries.filter((d) => d.ackedBy === receiver).length);
    const identities = await workerIdentities(events.filter((_, index) => index % 20 === 0).map((event) => event.id));
    const row = await record(
      '1,000 events, 2 receivers, 2 workers (100/s offered)',
      events,
      deliveries,
      settled,
      `acknowledged by receiver 1/2: ${byReceiver.join('/')}; worker identities in a 50-workflow sample: ${identities.size}`,
    );
    assert.ok(
      byReceiver.every((count) => count >= 400),
      `both receivers took deliveries: ${byReceiver.join('/')}`,
    );
    const workerPids = workers.map((worker) => String(worker.pid));
    for (const pid of workerPids) {
      assert.ok(
        [...identities].some((identity) => identity.startsWith(`${pid}@`)),
        `worker pid ${pid} completed workflow tasks (${[...identities].join(', ')})`,
      );
    }
    assert.ok(row.processed === 1_000);
  });

  it('throughput with one worker and with two (300 events each, as fast as they are accepted)', async () => {
    const measure = async (label: string) => {
      const events = Array.from({ length: 300 }, () => makeEvent());
      const { sentAt, deliveries } = await sendAll(events, 16);
      const settled = await settle(deliveries, sentAt, 300_000);
      return record(label, events, deliveries, settled);
    };
    await workers[1]!.stop('SIGTERM');
    progress('worker-2 stopped (SIGTERM): measuring one worker');
    const one = await measure('throughput, 1 worker (300 events, unthrottled)');
    await workers[1]!.start(120_000);
    progress('worker-2 back: measuring two workers');
    const two = await measure('throughput, 2 workers (300 events, unthrottled)');
    progress(`events/s: one worker ${one.eventsPerSecond}, two workers ${two.eventsPerSecond}`);
  });

  it('a worker SIGKILLed under load: the other carries on, nothing lost or run twice', async () => {
    // 100 objects × 3 events: the killed worker may hold object locks the other then waits out.
    const objects = Array.from({ length: 100 }, () => uniqueId('cus'));
    const events = [0, 1, 2].flatMap(() => objects.map((objectId) => makeEvent(objectId)));
    const killer = (async () => {
      await sleep(3_000);
      await workers[0]!.stop('SIGKILL');
      progress('worker-1 SIGKILLed; worker-2 carries on alone');
    })();
    const { sentAt, deliveries } = await sendAll(events, 8, 30);
    await killer;
    const settled = await settle(deliveries, sentAt, 240_000);
    const row = await record(
      'worker-1 SIGKILLed at 3 s (300 events, 30/s)',
      events,
      deliveries,
      settled,
      'worker-1 stayed down until every event was processed',
    );
    assert.equal(workers[0]!.pid, undefined, 'processed while worker-1 was down');
    await workers[0]!.start(120_000);
    assert.equal(row.processed, 300);
  });

  it('the reconcilers of both workers start deferred events exactly once (Temporal stopped while events arrive)', async () => {
    const reconciledBefore = workers.map((worker) => reconcilerStarts(worker.logFile));
    await temporalServer.stop();
    progress('temporal-server stopped; receivers keep acknowledging');
    const events = Array.from({ length: 200 }, () => makeEvent());
    const { sentAt, deliveries } = await sendAll(events, 8, 20);
    await temporalServer.start(180_000);
    progress('temporal-server restarted');
    const settled = await settle(deliveries, sentAt, 300_000);
    const reconciled = workers.map((worker, index) => reconcilerStarts(worker.logFile) - reconciledBefore[index]!);
    await record(
      'Temporal down while 200 events arrive (20/s)',
      events,
      deliveries,
      settled,
      `started by the reconciler of worker 1/2: ${reconciled.join('/')}`,
    );
    assert.ok(reconciled.reduce((a, b) => a + b, 0) > 0, 'the reconcilers started deferred events');
  });

  it('search attributes and visibility queries work on SQL visibility', async () => {
    const objectId = uniqueId('cus');
    const events = [makeEvent(objectId), makeEvent(objectId), makeEvent(objectId)];
    const { sentAt, deliveries } = await sendAll(events, 3);
    await record(
      'visibility probe (3 events of one object)',
      events,
      deliveries,
      await settle(deliveries, sentAt, 120_000),
    );
    // Same-second events of one object end `applied`, `tie` or `stale`: each outcome is counted apart.
    const outcomes = new Map<string, number>();
    for (const event of events) {
      const described = await temporal.workflow.getHandle(`stripe-event:default:${event.id}`).describe();
      const outcome = described.searchAttributes.HookflowOutcome?.[0];
      assert.equal(typeof outcome, 'string', 'HookflowOutcome is set when the workflow ends');
      outcomes.set(String(outcome), (outcomes.get(String(outcome)) ?? 0) + 1);
    }
    const count = async (query: string, expected: number) => {
      for (let attempt = 0; ; attempt++) {
        const { count } = await temporal.workflow.count(query);
        if (count === expected || attempt >= 10) return count;
        await sleep(1_000);
      }
    };
    assert.equal(await count(`StripeObjectId = '${objectId}'`, 3), 3);
    assert.equal(
      await count(
        `StripeObjectId = '${objectId}' AND StripeEventType = 'customer.updated' AND TenantId = 'default'`,
        3,
      ),
      3,
    );
    assert.equal(
      await count(`StripeObjectId = '${objectId}' AND StripeLivemode = false AND ExecutionStatus = 'Completed'`, 3),
      3,
    );
    for (const [outcome, expected] of outcomes) {
      assert.equal(
        await count(`StripeObjectId = '${objectId}' AND HookflowOutcome = '${outcome}'`, expected),
        expected,
      );
    }
    assert.equal(await count(`StripeObjectId = '${objectId}' AND StripeEventType = 'invoice.paid'`, 0), 0);
    const ids: string[] = [];
    for await (const execution of temporal.workflow.list({ query: `StripeObjectId = '${objectId}'` }))
      ids.push(execution.workflowId);
    assert.deepEqual(new Set(ids), new Set(events.map((event) => `stripe-event:default:${event.id}`)));
    // SQL visibility lists newest first and refuses ORDER BY (Elasticsearch visibility accepts it):
    // the README's queries must not rely on it.
    await assert.rejects(
      async () => {
        for await (const execution of temporal.workflow.list({
          query: `StripeObjectId = '${objectId}' ORDER BY StartTime`,
        }))
          void execution;
      },
      (error: Error) =>
        /operation is not supported: 'order by'/i.test(String((error.cause as Error | undefined)?.message)),
    );
  });

  it('a rolling restart of the receivers under load loses nothing', async () => {
    const events = Array.from({ length: 300 }, () => makeEvent());
    const rolling = (async () => {
      for (const receiver of receivers) {
        await sleep(2_500);
        const stopping = Date.now();
        await receiver.stop('SIGTERM');
        progress(`${receiver.name} drained and exited in ${Date.now() - stopping} ms; restarting`);
        await receiver.start(120_000);
        progress(`${receiver.name} back`);
      }
    })();
    const { sentAt, deliveries } = await sendAll(events, 8, 30);
    await rolling;
    const answers = deliveries.flatMap((d) => d.answers);
    const row = await record(
      'rolling restart of both receivers (300 events, 30/s)',
      events,
      deliveries,
      await settle(deliveries, sentAt, 240_000),
      `answers: ${answers.length}, refused or reset while restarting ${answers.filter((a) => a.status === 0).length}, 5xx ${answers.filter((a) => a.status >= 500).length}`,
    );
    assert.equal(row.processed, 300);
    assert.equal(answers.filter((a) => a.status >= 500).length, 0, 'no 5xx while a receiver drains');
  });

  // --- helpers that read the stack ---------------------------------------------------------------

  async function psql(database: string, sql: string): Promise<string> {
    const { stdout } = await run(
      'psql',
      ['-h', '127.0.0.1', '-p', String(ports.postgres), '-U', 'temporal', '-d', database, '-tAc', sql],
      {
        env: { ...process.env, PGPASSWORD: 'temporal' },
      },
    );
    return stdout.trim();
  }

  /** Identities (`<pid>@<host>`) of the workers that completed workflow tasks of these events. */
  async function workerIdentities(eventIds: string[]): Promise<Set<string>> {
    const identities = new Set<string>();
    for (const id of eventIds) {
      const history = await temporal.workflow.getHandle(`stripe-event:default:${id}`).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.workflowTaskCompletedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
    }
    return identities;
  }
});

/** Sum of `started` over the worker's "reconciler started deferred workflows" log lines. */
function reconcilerStarts(logFile: string): number {
  let total = 0;
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('reconciler started deferred workflows')) continue;
    try {
      total += Number((JSON.parse(line) as { started?: number }).started ?? 0);
    } catch {
      // not a JSON line
    }
  }
  return total;
}

async function scrape(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

function emptyRow(scenario: string): Row {
  return {
    scenario,
    events: 0,
    processed: 0,
    duplicates: 0,
    lost: 0,
    stuck: 0,
    eventsPerSecond: 0,
    slowestSeconds: 0,
    notes: '',
  };
}

function printTable(): void {
  const lines = [
    '| scenario | events | processed | duplicates | lost | stuck | events/s | slowest event s | notes |',
    `|${' --- |'.repeat(9)}`,
    ...table.map(
      (r) =>
        `| ${r.scenario} | ${r.events} | ${r.processed} | ${r.duplicates} | ${r.lost} | ${r.stuck} | ${r.eventsPerSecond} | ${r.slowestSeconds} | ${r.notes} |`,
    ),
  ];
  process.stdout.write(`\n  production-shape figures\n\n${lines.join('\n')}\n\n`);
}
