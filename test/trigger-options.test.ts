import assert from 'node:assert/strict';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import { runCli } from './helpers/run-cli';

describe('hookflow trigger --count and --set', () => {
  let hookflow: RunningHookflow;
  before(async () => {
    hookflow = await startHookflow();
  });
  after(async () => {
    await hookflow?.close();
  });

  it('sends n signed events with fresh ids and the fields set', async () => {
    const run = await runCli([
      'trigger',
      'customer.updated',
      '--url',
      hookflow.webhookUrl,
      '--secret',
      SECRET_A,
      '--count',
      '3',
      '--set',
      'data.object.metadata.plan=pro',
      '--set',
      'data.object.metadata.seats=5',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const ids = [...run.stdout.matchAll(/^customer\.updated (evt_\S+) → 200 /gm)].map((match) => match[1]!);
    assert.equal(new Set(ids).size, 3, run.stdout);
    for (const id of ids) {
      const stored = await waitForEventStatus(hookflow, id);
      const event = JSON.parse(stored.rawBody) as { data: { object: { metadata: Record<string, unknown> } } };
      assert.deepEqual(
        { plan: event.data.object.metadata.plan, seats: event.data.object.metadata.seats },
        { plan: 'pro', seats: 5 },
      );
    }
  });

  it('refuses a malformed --set in one line', async () => {
    const run = await runCli(['trigger', 'customer.updated', '--secret', SECRET_A, '--set', 'plan']);
    assert.equal(run.code, 1);
    assert.deepEqual(run.errorLines, ["hookflow trigger: --set 'plan' must look like data.object.metadata.plan=pro."]);
  });
});
