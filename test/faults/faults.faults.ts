import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase, type Database } from '../../src/db/connection';
import { startLocalStack, type LocalStack } from '../../src/stack/local-stack';
import { freePort } from '../../src/stack/ports';
import { signatureHeader, stripeEvent, stripeObject, uniqueId } from '../../src/stripe/sample-events';
import {
  ensureDir,
  Infra,
  portReady,
  progress,
  runLoad,
  send,
  sleep,
  Supervised,
  temporalReady,
  type Answer,
} from './harness';
import { fuzzRequests } from './fuzz';

/**
 * Fault injection on the production shape: Temporal and FerretDB from the embedded stack (own temp
 * directory, free ports, file-backed so they survive a restart), `hookflow serve` and
 * `hookflow worker` as separate processes. Each scenario prints its figures; the suite fails on a
 * lost event, a duplicate effect (more than one workflow run for an event id) or an acknowledged
 * event that is neither processed nor failed within the scenario's bound.
 */

const SECRET = `whsec_faults_${randomBytes(12).toString('hex')}`;
const ADMIN_TOKEN = `admin-token-${randomBytes(12).toString('hex')}`;
const TASK_QUEUE = 'hookflow-faults';
/** Planted in bodies: no log line may ever contain them. */
const CARD_NUMBER = '4242424242424242';
const BODY_MARKER = `fault-body-marker-${randomBytes(6).toString('hex')}`;
/** Temporal outage: the issue asks for 60 s; FAULTS_TEMPORAL_OUTAGE_SECONDS shortens it. */
const TEMPORAL_OUTAGE_MS = Number(process.env.FAULTS_TEMPORAL_OUTAGE_SECONDS ?? 60) * 1000;

interface Figures {
  scenario: string;
  sent: number;
  ok: number;
  client: number;
  server: number;
  unanswered: number;
  events: number;
  processed: number;
  failed: number;
  duplicates: number;
  lost: number;
  stuck: number;
  slowestSeconds: number;
  seconds: number;
  notes: string;
}

const table: Figures[] = [];
const signaturesSent = new Set<string>();

describe('fault injection (production shape)', function () {
  this.timeout(10 * 60_000);
  let dataDir: string;
  let stack: LocalStack;
  let db: Database;
  let temporalConnection: Connection;
  let temporal: Client;
  let receiver: Supervised;
  let worker: Supervised;
  let temporalInfra: Infra;
  let ferretInfra: Infra;
  let receiverPort: number;
  let metricsPort: number;
  let failedSuite = false;

  before(async function () {
    this.timeout(5 * 60_000);
    dataDir = mkdtempSync(join(tmpdir(), 'hookflow-faults-'));
    const logDir = ensureDir(join(dataDir, 'logs'));
    const temporalPort = await freePort();
    const mongoPort = await freePort();
    stack = await startLocalStack({ dataDir, temporalPort, mongoPort, temporalUiPort: null, ephemeral: false });
    temporalInfra = new Infra(
      'temporal',
      (argv) => argv.includes('start-dev') && argv.includes(String(temporalPort)),
      { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
      join(logDir, 'temporal-restarted.log'),
      () => temporalReady(stack.temporalAddress),
    );
    ferretInfra = new Infra(
      'ferretdb',
      (argv) => argv.includes(`--listen-addr=127.0.0.1:${mongoPort}`),
      { ...process.env, DO_NOT_TRACK: '1', FERRETDB_TELEMETRY: 'disable' },
      join(logDir, 'ferretdb-restarted.log'),
      portReady(mongoPort),
    );
    receiverPort = await freePort();
    metricsPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(receiverPort),
      LOG_LEVEL: 'info',
      MONGO_URL: stack.mongoUrl('hookflow_faults'),
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      STRIPE_WEBHOOK_SECRET: SECRET,
      HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
      // Faster recovery than the defaults (30 s / 15 s), so the suite fits its time budget.
      RECONCILE_AFTER_SECONDS: '5',
      RECONCILE_INTERVAL_SECONDS: '2',
      WORKER_METRICS_PORT: String(metricsPort),
      SHUTDOWN_GRACE_SECONDS: '20',
    };
    receiver = new Supervised(
      'receiver',
      'serve',
      env,
      join(logDir, 'receiver.log'),
      async () => (await send(receiverPort, 'GET', '/healthz', undefined, {}, 2_000)).status === 200,
    );
    worker = new Supervised('worker', 'worker', env, join(logDir, 'worker.log'), portReady(metricsPort));
    await worker.start();
    await receiver.start();
    db = await connectDatabase(stack.mongoUrl('hookflow_faults'));
    temporalConnection = await Connection.connect({ address: stack.temporalAddress });
    temporal = new Client({ connection: temporalConnection });
    progress(`stack up: Temporal ${stack.temporalAddress}, receiver :${receiverPort}, data ${dataDir}`);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failedSuite = true;
  });

  after(async function () {
    this.timeout(2 * 60_000);
    printTable();
    await receiver?.close();
    await worker?.close();
    await temporalConnection?.close().catch(() => undefined);
    await db?.close().catch(() => undefined);
    await temporalInfra?.close();
    await ferretInfra?.close();
    await stack?.stop();
    if (dataDir && !failedSuite && !process.env.FAULTS_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
    else if (dataDir) process.stdout.write(`  fault-suite data and logs kept in ${dataDir}\n`);
  });

  // --- helpers ------------------------------------------------------------------------------------

  function signed(body: string | Buffer, secret = SECRET): Record<string, string> {
    const header = signatureHeader(typeof body === 'string' ? body : body.toString('utf8'), secret);
    signaturesSent.add(header.split('v1=')[1]!);
    return { 'content-type': 'application/json', 'stripe-signature': header };
  }

  function makeEvent(objectId = uniqueId('cus'), type = 'customer.updated') {
    const event = stripeEvent(
      type,
      stripeObject('customer', {
        id: objectId,
        metadata: { note: `card ${CARD_NUMBER}`, marker: BODY_MARKER },
      }),
    );
    return { id: event.id, body: JSON.stringify(event) };
  }

  interface Delivery {
    id: string;
    answers: Answer[];
    ackAt: number | null;
    duplicate: boolean | undefined;
  }

  /** Delivers like Stripe: until a 2xx or 4xx, retrying no answer and 5xx with a short backoff (bounded). */
  async function deliver(event: { id: string; body: string }, maxAttempts = 1): Promise<Delivery> {
    const delivery: Delivery = { id: event.id, answers: [], ackAt: null, duplicate: undefined };
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const answer = await send(receiverPort, 'POST', '/webhooks/stripe', event.body, signed(event.body));
      delivery.answers.push(answer);
      if (answer.status >= 200 && answer.status < 300) {
        delivery.ackAt = Date.now();
        delivery.duplicate = answer.json?.duplicate;
        return delivery;
      }
      if (answer.status >= 400 && answer.status < 500) return delivery;
      await sleep(Math.min(500 * attempt, 3_000));
    }
    return delivery;
  }

  interface Settled {
    processed: number;
    failed: number;
    stuck: string[];
    lost: string[];
    slowestSeconds: number;
  }

  /** Waits until every acknowledged event is processed or failed, at most `boundMs`. */
  async function settle(deliveries: Delivery[], boundMs: number): Promise<Settled> {
    const acked = new Map<string, number>();
    for (const delivery of deliveries) {
      if (delivery.ackAt !== null) acked.set(delivery.id, Math.min(acked.get(delivery.id) ?? Infinity, delivery.ackAt));
    }
    // Events answered without 2xx may still have been stored (answer lost): they must not stay pending either.
    const unacked = [...new Set(deliveries.filter((d) => d.ackAt === null).map((d) => d.id))].filter(
      (id) => !acked.has(id),
    );
    let pending = [...acked.keys(), ...unacked];
    const done = new Map<string, { status: string; processedAt?: Date | null }>();
    const missing = new Set<string>();
    const deadline = Date.now() + boundMs;
    for (let round = 0; pending.length > 0 && Date.now() < deadline; round++) {
      if (round > 0) await sleep(1_000);
      const still: string[] = [];
      await runLoad(pending, 16, async (id) => {
        const doc = await db.models.StripeEvent.findOne({ _id: `default:${id}` })
          .select({ status: 1, processedAt: 1 })
          .lean()
          .catch(() => undefined);
        if (doc === undefined) return still.push(id); // database not answering: ask again
        if (doc === null) {
          if (acked.has(id)) still.push(id);
          else missing.add(id);
          return;
        }
        if (doc.status === 'processed' || doc.status === 'failed') done.set(id, doc);
        else still.push(id);
      });
      pending = still;
    }
    let slowest = 0;
    for (const [id, ackAt] of acked) {
      const doc = done.get(id);
      if (doc?.processedAt) slowest = Math.max(slowest, (doc.processedAt.getTime() - ackAt) / 1000);
    }
    const lost: string[] = [];
    const stuck: string[] = [];
    for (const id of pending) {
      const doc = await db.models.StripeEvent.findOne({ _id: `default:${id}` }).lean();
      if (!doc && acked.has(id)) lost.push(id);
      else if (doc) stuck.push(`${id} (${doc.status})`);
    }
    const statuses = [...done.values()];
    return {
      processed: statuses.filter((doc) => doc.status === 'processed').length,
      failed: statuses.filter((doc) => doc.status === 'failed').length,
      stuck,
      lost,
      slowestSeconds: Math.max(0, slowest),
    };
  }

  /** Workflow runs per event id (visibility): more than one is a duplicate effect. */
  async function duplicateRuns(ids: Iterable<string>): Promise<number> {
    await sleep(1_500); // visibility is eventually consistent
    const wanted = new Set([...ids].map((id) => `stripe-event:default:${id}`));
    const runs = new Map<string, number>();
    for await (const execution of temporal.workflow.list({ query: `TaskQueue = '${TASK_QUEUE}'` })) {
      if (wanted.has(execution.workflowId)) runs.set(execution.workflowId, (runs.get(execution.workflowId) ?? 0) + 1);
    }
    return [...runs.values()].reduce((sum, count) => sum + Math.max(0, count - 1), 0);
  }

  function record(
    scenario: string,
    begun: number,
    answers: Answer[],
    deliveries: Delivery[],
    settled: Settled,
    duplicates: number,
    notes = '',
  ): Figures {
    const figures: Figures = {
      scenario,
      sent: answers.length,
      ok: answers.filter((a) => a.status >= 200 && a.status < 300).length,
      client: answers.filter((a) => a.status >= 400 && a.status < 500).length,
      server: answers.filter((a) => a.status >= 500).length,
      unanswered: answers.filter((a) => a.status === 0).length,
      events: new Set(deliveries.filter((d) => d.ackAt !== null).map((d) => d.id)).size,
      processed: settled.processed,
      failed: settled.failed,
      duplicates,
      lost: settled.lost.length,
      stuck: settled.stuck.length,
      slowestSeconds: Math.round(settled.slowestSeconds * 10) / 10,
      seconds: Math.round((Date.now() - begun) / 1000),
      notes,
    };
    table.push(figures);
    progress(`${scenario}: ${JSON.stringify(figures)}`);
    if (settled.stuck.length > 0) progress(`stuck: ${settled.stuck.slice(0, 5).join(', ')}`);
    if (settled.lost.length > 0) progress(`lost: ${settled.lost.slice(0, 5).join(', ')}`);
    return figures;
  }

  function assertClean(figures: Figures): void {
    assert.equal(figures.lost, 0, 'acknowledged events lost');
    assert.equal(figures.duplicates, 0, 'events run more than once');
    assert.equal(figures.stuck, 0, 'acknowledged events still pending past the bound');
  }

  const answersOf = (deliveries: Delivery[]) => deliveries.flatMap((delivery) => delivery.answers);

  // --- scenarios ------------------------------------------------------------------------------------

  it('worker SIGKILLed three times under load: every event processed once', async () => {
    const begun = Date.now();
    // 100 objects × 3 events: a worker killed mid-activity holds object locks others then wait on.
    const objects = Array.from({ length: 100 }, () => uniqueId('cus'));
    const events = [0, 1, 2].flatMap(() => objects.map((objectId) => makeEvent(objectId)));
    const killer = (async () => {
      for (const at of [2_000, 5_000, 8_000]) {
        await sleep(at - (Date.now() - begun));
        await worker.stop('SIGKILL');
        progress(`worker SIGKILLed (pid gone), restarting`);
        await worker.start();
      }
    })();
    const deliveries = await runLoad(events, 8, (event) => deliver(event, 20), 30);
    await killer;
    const settled = await settle(deliveries, 180_000);
    const figures = record(
      'worker SIGKILL ×3 (300 events, 30/s)',
      begun,
      answersOf(deliveries),
      deliveries,
      settled,
      await duplicateRuns(events.map((e) => e.id)),
      `worker restarts ${worker.starts - 1}`,
    );
    assertClean(figures);
    assert.equal(figures.events, 300);
    assert.ok(figures.slowestSeconds < 90, `slowest ${figures.slowestSeconds} s`);
  });

  it(`Temporal stopped under load (${TEMPORAL_OUTAGE_MS / 1000} s): acknowledged throughout, processed after`, async () => {
    const begun = Date.now();
    const crashesBefore = worker.crashes;
    await temporalInfra.stop();
    progress('Temporal stopped');
    const stoppedAt = Date.now();
    const events = Array.from({ length: 100 }, () => makeEvent());
    const deliveries = await runLoad(events, 4, (event) => deliver(event, 3), 100 / (TEMPORAL_OUTAGE_MS / 1000 / 2));
    await sleep(Math.max(0, TEMPORAL_OUTAGE_MS - (Date.now() - stoppedAt)));
    await temporalInfra.start();
    progress(`Temporal restarted after ${Math.round((Date.now() - stoppedAt) / 1000)} s`);
    const settled = await settle(deliveries, 180_000);
    const figures = record(
      `Temporal down ${Math.round(TEMPORAL_OUTAGE_MS / 1000)} s (100 events)`,
      begun,
      answersOf(deliveries),
      deliveries,
      settled,
      await duplicateRuns(events.map((e) => e.id)),
      `worker exits during outage ${worker.crashes - crashesBefore}`,
    );
    assertClean(figures);
    assert.equal(figures.events, 100, 'every delivery acknowledged while Temporal was down');
    assert.equal(figures.server + figures.unanswered, 0);
  });

  it('database stopped and restarted under load: JSON 503 while down, nothing lost or half-stored', async () => {
    const begun = Date.now();
    const events = Array.from({ length: 200 }, () => makeEvent());
    const outage = (async () => {
      await sleep(5_000);
      await ferretInfra.stop();
      progress('FerretDB stopped');
      await sleep(15_000);
      await ferretInfra.start();
      progress('FerretDB restarted');
    })();
    const deliveries = await runLoad(events, 8, (event) => deliver(event, 1), 10);
    await outage;
    // Stripe redelivers what was not acknowledged.
    const retried = await runLoad(
      deliveries.filter((d) => d.ackAt === null),
      8,
      (d) =>
        deliver(
          events.find((e) => e.id === d.id)!,
          30,
        ),
    );
    for (const again of retried) {
      const original = deliveries.find((d) => d.id === again.id)!;
      original.answers.push(...again.answers);
      original.ackAt = again.ackAt;
    }
    const answers = answersOf(deliveries);
    const fiveHundreds = answers.filter((a) => a.status >= 500);
    const settled = await settle(deliveries, 180_000);
    const figures = record(
      'FerretDB down 15 s (200 events, 10/s)',
      begun,
      answers,
      deliveries,
      settled,
      await duplicateRuns(events.map((e) => e.id)),
      `503s ${fiveHundreds.length}, slowest answer ${Math.max(...answers.map((a) => a.ms))} ms`,
    );
    assertClean(figures);
    assert.equal(figures.events, 200, 'every event acknowledged once the database was back');
    assert.ok(
      fiveHundreds.every((a) => a.status === 503 && a.json?.error?.code === 'store_unavailable'),
      'only JSON 503 store_unavailable',
    );
    assert.equal(figures.unanswered, 0, 'every request answered');
  });

  it('receiver SIGTERMed under load: in-flight requests answered, nothing half-stored', async () => {
    const begun = Date.now();
    const events = Array.from({ length: 300 }, () => makeEvent());
    const restart = (async () => {
      await sleep(3_000);
      const stopping = Date.now();
      await receiver.stop('SIGTERM');
      progress(`receiver drained and exited in ${Date.now() - stopping} ms; restarting`);
      await receiver.start();
    })();
    const deliveries = await runLoad(events, 16, (event) => deliver(event, 40), 60);
    await restart;
    const answers = answersOf(deliveries);
    const resets = answers.filter((a) => a.status === 0 && a.error !== 'ECONNREFUSED');
    const settled = await settle(deliveries, 180_000);
    const figures = record(
      'receiver SIGTERM (300 events, 60/s)',
      begun,
      answers,
      deliveries,
      settled,
      await duplicateRuns(events.map((e) => e.id)),
      `refused while down ${answers.filter((a) => a.error === 'ECONNREFUSED').length}, reset before being read ${resets.length}`,
    );
    assertClean(figures);
    assert.equal(figures.events, 300);
    assert.equal(figures.server, 0);
    // A connection still in the kernel's accept queue when the listener closes is reset by the
    // kernel: the receiver never read it, so it is a refusal like ECONNREFUSED (Stripe retries).
    // A request the receiver did read and then dropped would show as a reset whose retry finds the
    // event already stored (duplicate: true): that is the loss of an acknowledgement this checks.
    const droppedAfterStoring = deliveries.filter(
      (d) => d.answers.some((a) => resets.includes(a)) && d.duplicate !== false,
    );
    assert.deepEqual(
      droppedAfterStoring.map((d) => ({ id: d.id, answers: d.answers.map((a) => a.error ?? a.status) })),
      [],
      'no accepted request was dropped without an answer',
    );
  });

  it('duplicate storm: 1,000 events × 5 copies, shuffled and concurrent, run once each', async () => {
    const begun = Date.now();
    const events = Array.from({ length: 1_000 }, () => makeEvent());
    const copies = events.flatMap((event) => Array.from({ length: 5 }, () => event));
    for (let index = copies.length - 1; index > 0; index--) {
      const other = Math.floor(Math.random() * (index + 1));
      [copies[index], copies[other]] = [copies[other]!, copies[index]!];
    }
    const deliveries = await runLoad(copies, 32, (event) => deliver(event, 10));
    const settled = await settle(deliveries, 240_000);
    const firsts = deliveries.filter((d) => d.duplicate === false).length;
    const figures = record(
      'duplicate storm (1,000 × 5, 32 concurrent)',
      begun,
      answersOf(deliveries),
      deliveries,
      settled,
      await duplicateRuns(events.map((e) => e.id)),
      `first deliveries ${firsts}, duplicates answered ${deliveries.filter((d) => d.duplicate === true).length}`,
    );
    assertClean(figures);
    assert.equal(figures.events, 1_000);
    assert.equal(firsts, 1_000, 'exactly one delivery per event is the first');
  });

  it('10,000+ seeded fuzzed requests: no 5xx, no crash, nothing stored for a refusal, every acknowledged event ends', async () => {
    const begun = Date.now();
    const seed = Number(process.env.FAULTS_SEED ?? 20261126);
    const requests = fuzzRequests(seed, 10_200, SECRET, (header) => signaturesSent.add(header), {
      card: CARD_NUMBER,
      marker: BODY_MARKER,
    });
    const crashes = receiver.crashes;
    const receiverPid = receiver.pid;
    const answers = await runLoad(requests, 16, (fuzz) =>
      send(receiverPort, fuzz.method, fuzz.path, fuzz.body, fuzz.headers),
    );
    const deliveries: Delivery[] = [];
    const wrong: string[] = [];
    const refusedIds = new Set<string>();
    answers.forEach((answer, index) => {
      const fuzz = requests[index]!;
      const ok = answer.status >= 200 && answer.status < 300;
      if (fuzz.expect === 'accept' && !ok) wrong.push(`${fuzz.kind}: expected 2xx, got ${answer.status}`);
      if (fuzz.expect === 'refuse' && !(answer.status >= 400 && answer.status < 500)) {
        wrong.push(`${fuzz.kind}: expected 4xx, got ${answer.status} ${answer.error ?? ''}`);
      }
      if (answer.status >= 400 && !answer.json?.error?.code) wrong.push(`${fuzz.kind}: ${answer.status} is not JSON`);
      if (fuzz.eventId && ok)
        deliveries.push({ id: fuzz.eventId, answers: [answer], ackAt: Date.now(), duplicate: false });
      if (fuzz.eventId && !ok) refusedIds.add(fuzz.eventId);
    });
    const storedRefused: string[] = [];
    await runLoad([...refusedIds].slice(0, 3_000), 16, async (id) => {
      if (id.length > 2_000) return;
      if (await db.models.StripeEvent.exists({ _id: `default:${id}` })) storedRefused.push(id);
    });
    const settled = await settle(deliveries, 240_000);
    const kinds = new Map<string, number>();
    for (const fuzz of requests) kinds.set(fuzz.kind, (kinds.get(fuzz.kind) ?? 0) + 1);
    const figures = record(
      `fuzz (${requests.length} requests, seed ${seed}, ${kinds.size} kinds)`,
      begun,
      answers,
      deliveries,
      settled,
      await duplicateRuns(deliveries.map((d) => d.id)),
      `refused ids checked ${Math.min(refusedIds.size, 3_000)}, stored after refusal ${storedRefused.length}`,
    );
    assertClean(figures);
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} unexpected answers`);
    assert.equal(figures.server, 0);
    assert.equal(figures.unanswered, 0);
    assert.equal(receiver.crashes, crashes, 'the receiver never crashed');
    assert.equal(receiver.pid, receiverPid);
    assert.deepEqual(storedRefused, [], 'nothing stored for a refused request');
    assert.ok(requests.length >= 10_000);
  });

  it('the inbox drains: the worker reports hookflow_inbox_pending 0 and no event given up', async () => {
    const begun = Date.now();
    let text = '';
    for (let waited = 0; waited < 60_000; waited += 1_000) {
      text = (await scrape(metricsPort)) ?? '';
      if (/^hookflow_inbox_pending 0$/m.test(text)) break;
      await sleep(1_000);
    }
    const failures = [...text.matchAll(/^hookflow_reconciler_failures_total\{reason="([a-z_]+)"\} (\d+)/gm)].map(
      (match) => `${match[1]}=${match[2]}`,
    );
    table.push({
      ...emptyFigures(`worker metrics after the scenarios`),
      seconds: Math.round((Date.now() - begun) / 1000),
      notes: `hookflow_inbox_pending ${/^hookflow_inbox_pending (\d+)/m.exec(text)?.[1]}; reconciler failures ${failures.join(', ') || 'none'}`,
    });
    assert.match(text, /^hookflow_inbox_pending 0$/m);
    assert.ok(
      !failures.some((entry) => /^(rejected|unparseable|budget_exhausted)=/.test(entry)),
      `no acknowledged event was given up: ${failures.join(', ')}`,
    );
  });

  it('logs hold no secret, signature, api key, card number or body', () => {
    const begun = Date.now();
    const logs = [receiver.logFile, worker.logFile];
    let bytes = 0;
    const hits: string[] = [];
    for (const file of logs) {
      const text = readFileSync(file, 'utf8');
      bytes += statSync(file).size;
      for (const [what, needle] of [
        ['signing secret', SECRET],
        ['secret prefix', 'whsec_'],
        ['admin token', ADMIN_TOKEN],
        ['card number', CARD_NUMBER],
        ['body marker', BODY_MARKER],
        ['signature header', 'v1='],
      ] as const) {
        if (text.includes(needle)) hits.push(`${what} in ${file}`);
      }
      for (const match of text.matchAll(/[0-9a-f]{64}/g)) {
        if (signaturesSent.has(match[0])) {
          hits.push(`a signature in ${file}`);
          break;
        }
      }
    }
    table.push({
      ...emptyFigures(`log scan (${(bytes / 1024 / 1024).toFixed(1)} MiB, ${signaturesSent.size} signatures)`),
      seconds: Math.round((Date.now() - begun) / 1000),
      notes: `${hits.length} findings`,
    });
    assert.deepEqual(hits, []);
  });
});

function emptyFigures(scenario: string): Figures {
  return {
    scenario,
    sent: 0,
    ok: 0,
    client: 0,
    server: 0,
    unanswered: 0,
    events: 0,
    processed: 0,
    failed: 0,
    duplicates: 0,
    lost: 0,
    stuck: 0,
    slowestSeconds: 0,
    seconds: 0,
    notes: '',
  };
}

async function scrape(port: number): Promise<string | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    return await response.text();
  } catch {
    return undefined;
  }
}

function printTable(): void {
  const header =
    '| scenario | sent | 2xx | 4xx | 5xx | no answer | events | processed | failed | duplicates | lost | stuck | slowest s | duration s | notes |';
  const lines = [header, `|${' --- |'.repeat(15)}`];
  for (const f of table) {
    lines.push(
      `| ${f.scenario} | ${f.sent} | ${f.ok} | ${f.client} | ${f.server} | ${f.unanswered} | ${f.events} | ${f.processed} | ${f.failed} | ${f.duplicates} | ${f.lost} | ${f.stuck} | ${f.slowestSeconds} | ${f.seconds} | ${f.notes} |`,
    );
  }
  process.stdout.write(`\n  fault-suite figures\n\n${lines.join('\n')}\n\n`);
}
