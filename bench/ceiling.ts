import { Client, Connection } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { trivialWorkflow } from './workflows/trivial';

/**
 * The Temporal ceiling, run as its own process by bench/run.ts (so its worker's memory and threads
 * leave with it): a worker for bench/workflows/trivial on its own task queue, `CEILING_COUNT`
 * workflows started with at most `CEILING_CONCURRENCY` start calls in flight (as a receiver
 * starts them), completions counted through Temporal's visibility every 250 ms. Prints one JSON
 * line: the completion rate from the first start to the last completion.
 *
 * The worker polls with hookflow's workflow-task poller ratio (`CEILING_NONSTICKY_POLL_RATIO`): with
 * the SDK's 0.2 only 2 of its 10 pollers fetch new workflows, which held the ceiling back as well.
 *
 * Env: TEMPORAL_ADDRESS, CEILING_COUNT, CEILING_CONCURRENCY, CEILING_TASK_QUEUE, CEILING_TIMEOUT_S,
 * CEILING_NONSTICKY_POLL_RATIO.
 */
const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const count = Number(process.env.CEILING_COUNT ?? 2000);
const concurrency = Number(process.env.CEILING_CONCURRENCY ?? 50);
const taskQueue = process.env.CEILING_TASK_QUEUE ?? 'bench-ceiling';
const timeoutMs = Number(process.env.CEILING_TIMEOUT_S ?? 900) * 1000;
const nonStickyToStickyPollRatio = Number(process.env.CEILING_NONSTICKY_POLL_RATIO ?? 0.2);
const WARM_UP = 20;

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

async function main() {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./workflows/trivial'),
    logger: quietLogger,
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    nonStickyToStickyPollRatio,
  });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const runId = Date.now().toString(36);

  const result = await worker.runUntil(async () => {
    // Warm-up: the first workflow tasks build the worker's sandbox; not counted.
    await Promise.all(
      Array.from({ length: WARM_UP }, (_, index) =>
        client.workflow.execute<typeof trivialWorkflow>('trivialWorkflow', {
          taskQueue,
          workflowId: `ceiling-warmup-${runId}-${index}`,
          args: [index],
        }),
      ),
    );
    // The warm-up runs are completed already; they are subtracted from the count.
    const completedQuery = `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`;
    const began = Date.now();
    const cpuBefore = process.cpuUsage();
    let next = 0;
    let startErrors = 0;
    const starter = async () => {
      while (next < count && Date.now() - began < timeoutMs) {
        const index = next++;
        try {
          await client.workflow.start<typeof trivialWorkflow>('trivialWorkflow', {
            taskQueue,
            workflowId: `ceiling-${runId}-${index}`,
            args: [index],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
        } catch {
          startErrors++;
        }
      }
    };
    const starting = Promise.all(Array.from({ length: concurrency }, starter)).then(() => Date.now());
    let completed = 0;
    let lastReport = began;
    while (Date.now() - began < timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      completed = (await client.workflow.count(completedQuery)).count - WARM_UP;
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        process.stderr.write(`ceiling: ${completed}/${count} completed\n`);
      }
      if (completed >= count - startErrors) break;
    }
    const finished = Date.now();
    const cpu = process.cpuUsage(cpuBefore);
    const startedAllAt = await starting;
    const seconds = (finished - began) / 1000;
    return {
      workflows: count,
      concurrency,
      nonsticky_poll_ratio: nonStickyToStickyPollRatio,
      completed,
      start_errors: startErrors,
      seconds,
      start_seconds: (startedAllAt - began) / 1000,
      ceiling_wps: completed / seconds,
      timed_out: completed < count - startErrors,
      /** This process (worker + client) over the measured part, ms. */
      process_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    };
  });
  await connection.close();
  await nativeConnection.close();
  process.stdout.write(`CEILING_RESULT ${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`ceiling failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
