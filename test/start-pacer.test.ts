import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createStartPacer, nextStartLimit } from '../src/receiver/start-pacer';
import { createWorkflowStarter } from '../src/temporal/workflow-starter';
import { createLogger } from '../src/logger';

describe('start pacer: workflow starts give way to acknowledgements', () => {
  it('halves the limit after a window with more than 1 % slow acknowledgements, else adds one up to the maximum', () => {
    assert.equal(nextStartLimit(32, 32, { seen: 200, slow: 3 }, 0.01), 16);
    assert.equal(nextStartLimit(1, 32, { seen: 200, slow: 3 }, 0.01), 0);
    assert.equal(nextStartLimit(0, 32, { seen: 200, slow: 200 }, 0.01), 0);
    assert.equal(nextStartLimit(16, 32, { seen: 200, slow: 2 }, 0.01), 17, '1 % slow is still within the share');
    assert.equal(nextStartLimit(0, 32, { seen: 200, slow: 0 }, 0.01), 1);
    assert.equal(nextStartLimit(32, 32, { seen: 200, slow: 0 }, 0.01), 32);
    assert.equal(nextStartLimit(5, 32, { seen: 0, slow: 0 }, 0.01), 5, 'no deliveries: no evidence either way');
  });

  it('runs starts at the maximum while no delivery arrives, and at the paced limit again from the next one', async () => {
    let raised = 0;
    const pacer = createStartPacer({
      maxConcurrency: 32,
      ackTargetMs: 50,
      windowMs: 20,
      cutIntervalMs: 0,
      onRaise: () => raised++,
    });
    try {
      for (let i = 0; i < 3; i++) pacer.observe(500);
      assert.equal(pacer.limit(), 4, 'three slow answers: 32 -> 16 -> 8 -> 4');
      const deadline = Date.now() + 2_000;
      while (pacer.limit() !== 32 && Date.now() < deadline) await sleep(5);
      assert.equal(pacer.limit(), 32, 'a lull: nothing to protect, queued starts drain at the maximum');
      assert.ok(raised >= 1, 'the starter was woken for them');
      pacer.observe(5);
      assert.equal(pacer.limit(), 4, 'the first delivery after the lull meets the limit paced before it, not 32');
    } finally {
      pacer.stop();
    }
  });

  it('cuts the limit on the answer that makes the window slow, not at its end, at most once per cut interval', async () => {
    const pacer = createStartPacer({ maxConcurrency: 32, ackTargetMs: 50, windowMs: 60_000, cutIntervalMs: 20 });
    try {
      for (let i = 0; i < 300; i++) pacer.observe(5);
      pacer.observe(500);
      assert.equal(pacer.limit(), 32, 'one slow answer in 301 is within the 1 % share');
      for (let i = 0; i < 3; i++) pacer.observe(500);
      assert.equal(pacer.limit(), 16, 'four in 304 are not: halved at once');
      pacer.observe(500);
      assert.equal(pacer.limit(), 16, 'not cut again within the cut interval');
      await sleep(30);
      pacer.observe(500);
      assert.equal(pacer.limit(), 8);
    } finally {
      pacer.stop();
    }
  });

  it('returns to the maximum when stopped (shutdown drains the queue at full concurrency)', async () => {
    const pacer = createStartPacer({ maxConcurrency: 8, ackTargetMs: 50, windowMs: 5 });
    const deadline = Date.now() + 2_000;
    while (pacer.limit() > 0 && Date.now() < deadline) {
      pacer.observe(500);
      await sleep(2);
    }
    assert.equal(pacer.limit(), 0);
    pacer.stop();
    assert.equal(pacer.limit(), 8);
  });

  it('is off with a target of 0: the limit stays at the maximum whatever it observes', () => {
    const pacer = createStartPacer({ maxConcurrency: 8, ackTargetMs: 0, windowMs: 5 });
    for (let i = 0; i < 100; i++) pacer.observe(10_000);
    assert.equal(pacer.limit(), 8);
  });

  it('pauses queued starts while acknowledgements are slow and resumes them when they are fast again', async () => {
    const pacer = createStartPacer({ maxConcurrency: 4, ackTargetMs: 50, windowMs: 20, onRaise: () => starter.wake() });
    const started: string[] = [];
    const starter = createWorkflowStarter({
      start: async (input) => {
        started.push(input.summary.eventId);
      },
      release: async () => undefined,
      log: createLogger('silent'),
      concurrency: pacer.limit,
      queueLimit: 100,
    });
    try {
      // Slow acknowledgements for a few windows: 4 → 2 → 1 → 0.
      const deadline = Date.now() + 2_000;
      while (pacer.limit() > 0 && Date.now() < deadline) {
        pacer.observe(500);
        await sleep(5);
      }
      assert.equal(pacer.limit(), 0);
      const inputs = ['evt_a', 'evt_b', 'evt_c'].map((eventId) => ({
        tenantId: 'default',
        summary: { eventId } as never,
      }));
      assert.equal(starter.enqueue({ inboxId: 'inbox:1', inputs, acknowledgedAt: Date.now() }), true);
      assert.deepEqual(started, [], 'no start while acknowledgements are slow');
      assert.equal(starter.backlog(), 3);
      // Fast acknowledgements (or none): the limit climbs back and the queued starts run.
      await starter.drain(2_000);
      assert.deepEqual(started.sort(), ['evt_a', 'evt_b', 'evt_c']);
      assert.ok(pacer.limit() >= 1);
    } finally {
      pacer.stop();
    }
  });
});
