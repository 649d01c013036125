import { ApplicationFailure } from '@temporalio/common';
import type { LogEntry } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { connectDatabase, type Database } from '../src/db/connection';
import { createLogger } from '../src/logger';
import { startReceiver, type RunningReceiver } from '../src/processes/receiver';
import { temporalLogSink } from '../src/temporal/runtime-logging';
import { REPO_ROOT } from '../src/version';
import { startFakeClerk, type FakeClerk } from './helpers/fake-clerk';
import { SECRET_A } from './helpers/hookflow';
import { deliverEvent, uniqueId, subscriptionCheckout } from './helpers/stripe-events';
import { testStack } from './setup/global-stack';

type Line = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function capture(level = 'debug') {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Line);
      done();
    },
  });
  return { sink: temporalLogSink(pino({ level }, stream)), lines };
}

function entry(level: LogEntry['level'], message: string, meta: Record<string, unknown>): LogEntry {
  return { level, message, meta, timestampNanos: 0n };
}

describe('Temporal SDK log lines', () => {
  it('logs the activity-only worker notice at debug, not as a warning', () => {
    const { sink, lines } = capture('info');
    sink(entry('WARN', 'No workflows registered, not polling for workflow tasks', { taskQueue: 'hookflow-clerk' }));
    sink(entry('WARN', 'Activity failed', { activityType: 'syncClerkCheckout' }));
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['Activity failed'],
    );
  });

  it('drops the task token and keeps the rest of the metadata', () => {
    const { sink, lines } = capture();
    sink(entry('WARN', 'Activity failed', { taskToken: 'CiQ0ZjM…', activityType: 'syncClerkCheckout', attempt: 3 }));
    assert.equal(lines[0]!.taskToken, undefined);
    assert.equal(lines[0]!.activityType, 'syncClerkCheckout');
    assert.equal(lines[0]!.attempt, 3);
    assert.equal(lines[0]!.source, 'temporal');
  });

  it('writes an activity failure as its type and message', () => {
    const { sink, lines } = capture();
    const rejected = ApplicationFailure.nonRetryable('404 organization org_1 not found', 'ClerkRequestRejected');
    sink(entry('WARN', 'Activity failed', { error: rejected }));
    assert.deepEqual(lines[0]!.error, { type: 'ClerkRequestRejected', message: '404 organization org_1 not found' });
  });

  it('writes a workflow failure, which reaches the sink structured-cloned, with class names, messages and causes', () => {
    const { sink, lines } = capture();
    const failure = new Error('Activity task failed');
    failure.stack = ''; // Temporal's ActivityFailure carries no stack of its own
    failure.cause = ApplicationFailure.nonRetryable('404 organization org_1 not found', 'ClerkRequestRejected');
    // What a workflow thread hands over: every class turned into Error, `type` dropped, stack kept.
    const cloned = structuredClone(failure);
    sink(entry('WARN', 'Workflow failed', { error: cloned, workflowId: 'stripe-event:default:evt_1' }));
    assert.deepEqual(lines[0]!.error, {
      type: 'Error',
      message: 'Activity task failed',
      cause: { type: 'ApplicationFailure', message: '404 organization org_1 not found' },
    });
    assert.equal(lines[0]!.workflowId, 'stripe-event:default:evt_1');
  });
});

describe('a worker process failing an event', () => {
  const CLERK_KEY = 'sk_test_log_check_5b7e0c1d9a';
  const BODY_MARKER = 'body-marker-7f3e9a';
  let clerk: FakeClerk;
  let db: Database;
  let receiver: RunningReceiver;
  let worker: ChildProcessWithoutNullStreams;
  let output = '';
  let exited: Promise<unknown>;

  before(async function () {
    this.timeout(120_000);
    const { stack } = testStack();
    const suffix = randomBytes(4).toString('hex');
    clerk = await startFakeClerk();
    const env = {
      MONGO_URL: stack.mongoUrl(`hookflow_logs_${suffix}`),
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: `hookflow-logs-${suffix}`,
      STRIPE_WEBHOOK_SECRET: SECRET_A,
      CLERK_SECRET_KEY: CLERK_KEY,
      CLERK_API_URL: clerk.url,
      LOG_LEVEL: 'info',
    };
    const config = loadConfig({ ...env, PORT: '0' });
    db = await connectDatabase(config.mongoUrl);
    receiver = await startReceiver(config, createLogger('silent'));
    worker = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'), 'worker'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const deadline = Date.now() + 100_000;
    while (!output.includes('"worker running"')) {
      if (Date.now() > deadline || worker.exitCode !== null) throw new Error(`worker did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  after(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await exited;
    }
    await receiver?.close();
    await db?.connection.dropDatabase();
    await db?.close();
    await clerk?.close();
  });

  it('logs the failure with its type and message, without task tokens, secrets, bodies or the no-workflows warning', async function () {
    this.timeout(90_000);
    const organizationId = uniqueId('org');
    clerk.script('PATCH', `/v1/organizations/${organizationId}/metadata`, { status: 404 });
    const event = subscriptionCheckout(organizationId, { metadata: { note: BODY_MARKER } });
    const delivered = await deliverEvent(`${receiver.url}/webhooks/stripe`, event, SECRET_A);
    assert.equal(delivered.status, 200);

    const deadline = Date.now() + 60_000;
    while (!output.includes('"Workflow failed"')) {
      if (Date.now() > deadline) throw new Error(`no "Workflow failed" line:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    worker.kill('SIGTERM');
    await exited;

    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Line);
    const failed = lines.find((line) => line.msg === 'Workflow failed');
    // The workflow's errors cross a thread boundary that keeps messages, causes and stacks but drops
    // ApplicationFailure.type; the activity's own line and hookflow's event line keep it.
    assert.equal(failed?.error.message, 'Activity task failed', JSON.stringify(failed));
    assert.equal(failed?.error.cause.type, 'ApplicationFailure', JSON.stringify(failed));
    assert.match(failed?.error.cause.message, new RegExp(`^404 .*${organizationId}`));
    const activityFailed = lines.find((line) => line.msg === 'Activity failed');
    assert.equal(activityFailed?.error.type, 'ClerkRequestRejected', JSON.stringify(activityFailed));
    const eventFailed = lines.find((line) => line.msg === 'event processing failed');
    assert.equal(eventFailed?.eventId, event.id, JSON.stringify(eventFailed));
    assert.match(eventFailed?.error, new RegExp(`^ClerkRequestRejected: 404 .*${organizationId}`));

    assert.ok(!output.includes('taskToken'), 'no task token');
    assert.ok(!/No workflows registered/.test(output), 'no "No workflows registered" notice at info');
    for (const secret of [CLERK_KEY, SECRET_A, BODY_MARKER])
      assert.ok(!output.includes(secret), `${secret} not logged`);
  });
});
