import { Client, Connection } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { startEventWorkflow, type EventSummary } from './hookflow';
import { cpuMs, progress } from './procs';
import { startBenchStack } from './stack';

/**
 * What Temporal's dev server spends per workflow on each part of hookflow's workflow shape, with no
 * database work at all (bench/workflows/shaped.ts): the trivial workflow of the ceiling; then
 * hookflow's start (its search attributes and memo, src/temporal/event-workflows.ts) of a workflow
 * that returns at once; + the outcome upsert; + one, then two local activities before it. Each
 * round runs every variant (`count` workflows, 50 starts in flight, worker and client in this
 * process) on one fresh embedded stack. Prints per variant over all rounds: completion rate,
 * Temporal CPU ms per workflow, this process's CPU ms per workflow.
 *
 *   node dist/bench/temporal-shape-probe.js [workflows per variant and round=500] [rounds=3]
 */
const count = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 3);
const CONCURRENCY = 50;
const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

interface Variant {
  name: string;
  taskQueue: string;
  start(client: Client, index: number, runId: string): Promise<unknown>;
}

const hookflowStart = (taskQueue: string) => (client: Client, index: number, runId: string) =>
  startEventWorkflow(client, taskQueue, {
    tenantId: 'default',
    summary: customerUpdated(`evt_${runId}_${taskQueue}_${index}`, `cus_${runId}${index}`),
  });

/** A summary like the receiver makes of a `customer.updated` (the most frequent type in the mix). */
function customerUpdated(eventId: string, customerId: string): EventSummary {
  return {
    eventId,
    type: 'customer.updated',
    resource: 'customer',
    objectId: customerId,
    objectType: 'customer',
    customerId,
    livemode: false,
    apiVersion: '2024-06-20',
    created: 1_700_000_000,
    account: null,
  };
}

const VARIANTS: Variant[] = [
  {
    name: 'trivial workflow (the ceiling)',
    taskQueue: 'shape-trivial',
    start: (client, index, round) =>
      client.workflow.start('trivialWorkflow', {
        taskQueue: 'shape-trivial',
        workflowId: `trivial-${round}-${index}`,
        args: [index],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      }),
  },
  {
    name: "hookflow's start (search attributes + memo), returns",
    taskQueue: 'shape-start',
    start: hookflowStart('shape-start'),
  },
  { name: '+ outcome upsert', taskQueue: 'shape-upsert', start: hookflowStart('shape-upsert') },
  { name: '+ one local activity', taskQueue: 'shape-local-1', start: hookflowStart('shape-local-1') },
  { name: '+ a second local activity', taskQueue: 'shape-local', start: hookflowStart('shape-local') },
];

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await startBenchStack('shape');
  try {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('./workflows/shaped'),
      logger: quietLogger,
    });
    const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection });
    const runId = Date.now().toString(36);
    const totals = VARIANTS.map(() => ({ seconds: 0, temporal: 0, own: 0, workflows: 0 }));
    // Rounds, each running every variant once: Temporal's database grows as the probe runs (its
    // CPU per workflow drifts up), so no variant may always come last.
    for (let round = 0; round < rounds; round++) {
      for (const [index, variant] of VARIANTS.entries()) {
        const result = await runVariant(variant, `${runId}r${round}`);
        const total = totals[index]!;
        total.seconds += result.seconds;
        total.temporal += result.temporalMs;
        total.own += result.ownMs;
        total.workflows += count;
        progress(
          `round ${round + 1}/${rounds}: ${describe(variant.name, result.seconds, result.temporalMs, result.ownMs, count)}`,
        );
      }
    }
    await connection.close();
    await nativeConnection.close();
    process.stdout.write(
      [
        `${count} workflows per variant and round, ${rounds} rounds, ${CONCURRENCY} starts in flight, one embedded stack`,
        '',
        '| variant | workflows/s | Temporal CPU ms/workflow | client + worker CPU ms/workflow |',
        '| --- | --- | --- | --- |',
        ...VARIANTS.map((variant, index) => {
          const total = totals[index]!;
          return `| ${describe(variant.name, total.seconds, total.temporal, total.own, total.workflows)} |`;
        }),
        '',
      ].join('\n'),
    );

    async function runVariant(variant: Variant, round: string) {
      const worker = await Worker.create({
        connection: nativeConnection,
        taskQueue: variant.taskQueue,
        workflowBundle,
        activities: {
          stepResult: async (step: string) => ({ type: step, outcome: 'applied', recorded: false, children: 0 }),
        },
      });
      return worker.runUntil(async () => {
        // Warm-up (not counted): the worker's sandbox and the server's caches.
        const closedBefore = await closedCount(client, variant.taskQueue);
        await Promise.all(Array.from({ length: 20 }, (_, index) => variant.start(client, 1_000_000 + index, round)));
        await waitClosed(client, variant.taskQueue, closedBefore + 20);
        const temporalBefore = cpuMs(stack.pids.temporal);
        const ownBefore = process.cpuUsage();
        const began = Date.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < count) await variant.start(client, next++, round);
          }),
        );
        await waitClosed(client, variant.taskQueue, closedBefore + 20 + count);
        const own = process.cpuUsage(ownBefore);
        return {
          seconds: (Date.now() - began) / 1000,
          temporalMs: cpuMs(stack.pids.temporal) - temporalBefore,
          ownMs: (own.user + own.system) / 1000,
        };
      });
    }
  } finally {
    await stack.stop();
  }
}

async function closedCount(client: Client, taskQueue: string): Promise<number> {
  return (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus != 'Running'`)).count;
}

/** Polls visibility until `expected` workflows of the queue are closed. */
async function waitClosed(client: Client, taskQueue: string, expected: number): Promise<void> {
  while ((await closedCount(client, taskQueue)) < expected) await new Promise((resolve) => setTimeout(resolve, 200));
}

function describe(name: string, seconds: number, temporalMs: number, ownMs: number, workflows: number): string {
  return `${name} | ${(workflows / seconds).toFixed(1)} | ${(temporalMs / workflows).toFixed(2)} | ${(ownMs / workflows).toFixed(2)}`;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `temporal-shape-probe failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
