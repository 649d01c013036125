import { NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import type { Config } from '../config';

export interface HookflowWorker {
  worker: Worker;
  /** Runs until shutdown() is called (SIGTERM drains in-flight tasks), then closes the connection. */
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * Builds the worker from injected dependencies. Tests hand over one pre-built workflow bundle;
 * processes let the SDK bundle `workflows/` on start.
 */
export async function createHookflowWorker(
  config: Config['temporal'],
  deps: ActivityDeps,
  workflowBundle?: WorkflowBundle,
): Promise<HookflowWorker> {
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    activities: createActivities(deps),
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('../../workflows') }),
  });
  return {
    worker,
    async run() {
      try {
        await worker.run();
      } finally {
        await connection.close();
      }
    },
    shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
