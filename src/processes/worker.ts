import type { WorkflowBundle } from '@temporalio/worker';
import type { Config } from '../config';
import { connectDatabase } from '../db/connection';
import { EventLedger } from '../stores/event-store';
import type { Logger } from '../logger';
import { connectTemporal } from '../temporal/client';
import { startEventWorkflow } from '../temporal/event-workflows';
import { createHookflowWorker } from '../worker/create-worker';
import { createReconciler } from '../worker/reconciler';
import { buildOutboundDeps } from '../outbound/outbound-deps';
import { clerkActivitiesPerSecond, createGlobalClerkResolver, createTenantClerkResolver } from '../clerk/clerk-clients';
import { bindBusinessModels, createBusinessIndexes } from '../db/business-models';
import { openTenantStore } from '../tenants/open-tenants';

export interface RunningWorker {
  /** Settles when the worker stopped (after close(), or on a fatal error). */
  done: Promise<void>;
  close(): Promise<void>;
}

/** The worker process: Temporal worker + the reconciler for events stored while Temporal was away. */
export async function startWorker(
  config: Config,
  log: Logger,
  workflowBundle?: WorkflowBundle,
): Promise<RunningWorker> {
  const db = await connectDatabase(config.mongoUrl);
  const ledger = new EventLedger(db.models);
  const temporal = await connectTemporal(config.temporal);
  const businessModels = bindBusinessModels(db.connection);
  await createBusinessIndexes(businessModels);
  const tenants = config.tenants.masterKey ? await openTenantStore(db.connection, config) : null;
  const worker = await createHookflowWorker(
    config.temporal,
    {
      models: db.models,
      ledger,
      state: config.state,
      outbound: await buildOutboundDeps(config, db.connection, temporal.client, log),
      business: {
        ledger,
        businessModels,
        locks: db.models.Lock,
        clerkFor: tenants
          ? createTenantClerkResolver(config.clerk, (tenantId) => tenants.clerkSettings(tenantId))
          : createGlobalClerkResolver(config.clerk),
        sessionMetadataKey: config.sessions.metadataKey,
      },
    },
    { workflowBundle, clerkActivitiesPerSecond: clerkActivitiesPerSecond(config.clerk) },
  );
  const reconciler = createReconciler({
    ledger,
    startWorkflow: (input) => startEventWorkflow(temporal.client, config.temporal.taskQueue, input),
    log,
    afterSeconds: config.reconciler.afterSeconds,
    stalledAfterSeconds: config.reconciler.stalledAfterSeconds,
    intervalSeconds: config.reconciler.intervalSeconds,
  });
  reconciler.start();
  log.info({ taskQueue: config.temporal.taskQueue }, 'worker running');
  const done = worker.run().finally(async () => {
    await reconciler.stop();
    await temporal.close();
    await db.close();
  });
  return {
    done,
    async close() {
      worker.shutdown();
      await done;
    },
  };
}
