import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { CLERK_HANDLERS, clerkTaskQueue, stripeApiTaskQueue } from '../contracts';
import type { Config } from '../config';
import { prebuiltWorkflowBundle } from './workflow-bundle';

export interface HookflowWorker {
  workers: Worker[];
  /** Runs until shutdown() is called (SIGTERM drains in-flight tasks), then closes the connection. */
  run(): Promise<void>;
  shutdown(): void;
}

export interface WorkerOptions {
  /** Tests hand over one pre-built bundle; processes let the SDK bundle `workflows/` on start. */
  workflowBundle?: WorkflowBundleOption;
  /** Task-queue-wide limit for Clerk activities (Temporal enforces it across all workers). */
  clerkActivitiesPerSecond?: number;
  /**
   * Fleet-wide Stripe request rates per key mode (STRIPE_API_*_REQUESTS_PER_SECOND), enforced by the
   * Stripe activities through the shared rate slots (src/stores/rate-slot-store.ts).
   */
  stripeRequestsPerSecond?: { live: number; sandbox: number };
  /** Activities and local activities the main worker runs at once (activity-slots.ts); SDK default 100. */
  activitySlots?: number;
}

/**
 * Activities that each make one Stripe API request: they run on the Stripe queues of their key mode
 * and pace themselves (stripeRequestsPerSecond). Not Temporal's task-queue rate limit: the server
 * splits it across the queue's partitions and reached only 74-82 % of the cap (rate-slot-store.ts).
 */
const STRIPE_REQUEST_ACTIVITIES = ['snapshotPage', 'catchUpPage'];

/**
 * Builds the workers from injected dependencies: the main one (every workflow and activity) and,
 * when business handlers are wired, a second one on `<task queue>-clerk` that runs only the Clerk
 * activities under `maxTaskQueueActivitiesPerSecond`, so the whole fleet stays inside Clerk's limit.
 */
export async function createHookflowWorker(
  config: Config['temporal'],
  deps: ActivityDeps,
  options: WorkerOptions = {},
): Promise<HookflowWorker> {
  const connection = await NativeConnection.connect({ address: config.address });
  const activities = createActivities(
    deps.stripe && options.stripeRequestsPerSecond
      ? { ...deps, stripe: { ...deps.stripe, requestsPerSecond: options.stripeRequestsPerSecond } }
      : deps,
  );
  const base = { connection, namespace: config.namespace };
  const workers = [
    await Worker.create({
      ...base,
      taskQueue: config.taskQueue,
      activities,
      ...workflowCode(options.workflowBundle),
      ...(config.maxCachedWorkflows ? { maxCachedWorkflows: config.maxCachedWorkflows } : {}),
      ...(config.nonStickyPollRatio ? { nonStickyToStickyPollRatio: config.nonStickyPollRatio } : {}),
      ...(options.activitySlots
        ? {
            maxConcurrentActivityTaskExecutions: options.activitySlots,
            maxConcurrentLocalActivityExecutions: options.activitySlots,
          }
        : {}),
    }),
  ];
  if (deps.business) {
    const clerkActivities = Object.fromEntries(
      Object.entries(activities).filter(([name]) => CLERK_HANDLERS.includes(name as never)),
    );
    workers.push(
      await Worker.create({
        ...base,
        taskQueue: clerkTaskQueue(config.taskQueue),
        activities: clerkActivities,
        ...(options.clerkActivitiesPerSecond
          ? { maxTaskQueueActivitiesPerSecond: options.clerkActivitiesPerSecond }
          : {}),
      }),
    );
  }
  if (deps.stripe) {
    const stripeActivities = Object.fromEntries(
      Object.entries(activities).filter(([name]) => STRIPE_REQUEST_ACTIVITIES.includes(name)),
    );
    for (const mode of ['live', 'sandbox'] as const) {
      workers.push(
        await Worker.create({
          ...base,
          taskQueue: stripeApiTaskQueue(config.taskQueue, mode),
          activities: stripeActivities,
        }),
      );
    }
  }
  return {
    workers,
    async run() {
      try {
        await Promise.all(workers.map((worker) => worker.run()));
      } finally {
        await connection.close();
      }
    },
    shutdown() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

/** A bundle handed over (tests), else the prebuilt one (workflow-bundle.ts), else bundle at start. */
function workflowCode(handed: WorkflowBundleOption | undefined) {
  const bundle = handed ?? prebuiltWorkflowBundle();
  return bundle ? { workflowBundle: bundle } : { workflowsPath: require.resolve('../../workflows') };
}
