import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { freePort } from '../src/stack/ports';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { runCli, type CliRun } from './helpers/run-cli';
import { testStack } from './setup/global-stack';

/**
 * Runs `hookflow …` as a user would, with only the environment given (plus PATH and HOME), so a
 * developer's own settings never leak in.
 */
const hookflow = (args: string[], env: Record<string, string> = {}) => runCli(args, env, { timeoutMs: 30_000 });

/** The contract of every failing command: exit 1, one line on stderr, no stack trace. */
function assertOneLineFailure(run: CliRun, pattern: RegExp): string {
  assert.equal(run.code, 1, `exit code (stderr: ${run.stderr})`);
  assert.equal(run.errorLines.length, 1, `one line, got:\n${run.stderr}`);
  assert.ok(!/^\s+at /m.test(run.stderr), 'no stack trace');
  assert.match(run.errorLines[0]!, pattern);
  return run.errorLines[0]!;
}

const MASTER_KEY = randomBytes(32).toString('base64');

describe('hookflow CLI errors', () => {
  it('lists the known event types for an event type without an example object', async () => {
    const line = assertOneLineFailure(
      await hookflow(['trigger', 'nonsense']),
      /^hookflow trigger: no Stripe example object for event type 'nonsense'\. Known types: /,
    );
    for (const type of ['checkout.session.completed', 'charge.dispute.created', 'customer.created', 'invoice.paid']) {
      assert.ok(line.includes(type), `lists ${type}`);
    }
  });

  it('asks whether `npm run dev` is running and names the URL tried when no receiver answers', async () => {
    const port = await freePort();
    assertOneLineFailure(
      await hookflow(['trigger', 'customer.created'], { PORT: String(port), STRIPE_WEBHOOK_SECRET: SECRET_A }),
      new RegExp(
        `^hookflow trigger: no receiver answered \\(ECONNREFUSED\\): is \`npm run dev\` running\\? tried http://127\\.0\\.0\\.1:${port}/webhooks/stripe$`,
      ),
    );
  });

  it('says what --object must look like when it is not a JSON object', async () => {
    const env = { STRIPE_WEBHOOK_SECRET: SECRET_A };
    assertOneLineFailure(
      await hookflow(['trigger', 'customer.created', '--object', '{id:'], env),
      /^hookflow trigger: --object is not JSON \(.+\): pass an object, e\.g\. --object '\{"id":"cus_123"\}'\.$/,
    );
    assertOneLineFailure(
      await hookflow(['trigger', 'customer.created', '--object', '[1]'], env),
      /^hookflow trigger: --object must be a JSON object/,
    );
  });

  it('prints the stack trace only with --debug or LOG_LEVEL=debug', async () => {
    for (const run of [
      await hookflow(['trigger', 'nonsense', '--debug']),
      await hookflow(['trigger', 'nonsense'], { LOG_LEVEL: 'debug' }),
    ]) {
      assert.equal(run.code, 1);
      assert.match(run.errorLines[0]!, /^hookflow trigger: no Stripe example object/);
      assert.ok(/^\s+at /m.test(run.stderr), `a stack trace:\n${run.stderr}`);
    }
  });

  it('names every bad variable on one line when the configuration is invalid', async () => {
    const line = assertOneLineFailure(
      await hookflow(['serve'], { PORT: 'abc', LOG_LEVEL: 'loud' }),
      /^hookflow serve: Invalid configuration: /,
    );
    assert.match(line, /PORT: .*; LOG_LEVEL: .*See \.env\.example/);
  });

  it('says how to set HOOKFLOW_MASTER_KEY when a tenants command needs it', async () => {
    assertOneLineFailure(
      await hookflow(['tenants', 'list']),
      /^hookflow tenants list: HOOKFLOW_MASTER_KEY is not set: .*openssl rand -base64 32/,
    );
  });

  it('names the database it tried, without its password, when MongoDB does not answer', async () => {
    const port = await freePort();
    const env = {
      HOOKFLOW_MASTER_KEY: MASTER_KEY,
      MONGO_URL: `mongodb://ops:hunter2secret@127.0.0.1:${port}/hookflow`,
    };
    for (const command of [
      ['tenants', 'list'],
      ['endpoints', 'list'],
    ]) {
      const line = assertOneLineFailure(
        await hookflow(command, env),
        new RegExp(
          `^hookflow ${command.join(' ')}: cannot reach MongoDB at mongodb://\\*\\*\\*@127\\.0\\.0\\.1:${port}/hookflow .*is \`npm run dev\` running\\? Otherwise set MONGO_URL\\.$`,
        ),
      );
      assert.ok(!line.includes('hunter2secret'));
    }
  });

  it('states the signing-secret rule when tenants add gets a short secret', async () => {
    const env = { HOOKFLOW_MASTER_KEY: MASTER_KEY, MONGO_URL: testStack().stack.mongoUrl('hookflow_cli_errors') };
    assertOneLineFailure(
      await hookflow(['tenants', 'add', 'acme', '--sandbox-secret', 'whsec_x'], env),
      /^hookflow tenants: A Stripe signing secret is whsec_ followed by at least 8 characters without spaces; it has 1 after whsec_\./,
    );
  });

  it('names the Temporal address it tried when Temporal does not answer', async () => {
    const env = {
      MONGO_URL: testStack().stack.mongoUrl('hookflow_cli_errors'),
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    };
    assertOneLineFailure(
      await hookflow(['worker'], env),
      new RegExp(
        `^hookflow worker: cannot reach Temporal at ${env.TEMPORAL_ADDRESS.replace(/\./g, '\\.')}: .*TEMPORAL_ADDRESS`,
      ),
    );
  });

  it('says the port is taken when the receiver cannot listen', async () => {
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    try {
      const { stack } = testStack();
      assertOneLineFailure(
        await hookflow(['serve'], {
          PORT: String(port),
          MONGO_URL: stack.mongoUrl('hookflow_cli_errors'),
          TEMPORAL_ADDRESS: stack.temporalAddress,
          LOG_LEVEL: 'silent',
        }),
        /^hookflow serve: listen EADDRINUSE: .*is hookflow already running\? Stop it, or set PORT/,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('hookflow trigger', () => {
  let running: RunningHookflow;

  before(async () => {
    running = await startHookflow();
  });
  after(async () => {
    await running?.close();
  });

  it('posts an example object dated now with a fresh id, and prints one line with the answer', async () => {
    const startedAt = Math.floor(Date.now() / 1000);
    const run = await hookflow([
      'trigger',
      'charge.dispute.created',
      '--url',
      running.webhookUrl,
      '--secret',
      SECRET_A,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const match = /^charge\.dispute\.created (evt_\w+) → 200 \{.*"received":true/.exec(run.stdout);
    assert.ok(match, run.stdout);
    const stored = await waitForEventStatus(running, match[1]!);
    const dispute = (JSON.parse(stored.rawBody) as { data: { object: Record<string, any> } }).data.object; // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.ok(Math.abs(dispute.created - startedAt) < 60, `created ${dispute.created} is now`);
    assert.ok(dispute.evidence_details.due_by > dispute.created, 'evidence is due after the dispute opened');
    assert.ok(dispute.evidence_details.due_by - dispute.created < 31 * 24 * 3600, 'and within a month');
    assert.match(dispute.id, /^dp_/);
    assert.notEqual(dispute.id, 'dp_1Pgc71B7WZ01zgkWMevJiAUx'); // the fixture's id
    assert.equal(stored.outcome, 'case_opened');
  });
});
