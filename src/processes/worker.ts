import { getHeapStatistics } from 'node:v8';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { Config } from '../config';
import { connectDatabase } from '../db/connection';
import type { Logger } from '../logger';
import { connectTemporal } from '../temporal/client';
import { startEventWorkflow } from '../temporal/event-workflows';
import { createHookflowWorker } from '../worker/create-worker';
import { createReconciler } from '../worker/reconciler';
import { createWorkerMetrics, serveWorkerMetrics } from '../worker/worker-metrics';
import { buildOutboundDeps } from '../outbound/outbound-deps';
import { createOutboundMetrics } from '../outbound/outbound-metrics';
import { clerkActivitiesPerSecond, createGlobalClerkResolver, createTenantClerkResolver } from '../clerk/clerk-clients';
import { storeOptionsFromConfig } from '../stores';
import { createChildListCompleter } from '../stripe/child-lists';
import { createObjectRefetcher } from '../stripe/object-refetch';
import { createStripeClientResolver } from '../stripe/stripe-clients';
import { ensureCatchUpSchedule } from '../temporal/catch-up-schedule';
import { rerunServiceFromConfig } from '../support/support-deps';
import { createSupportMetrics } from '../support/support-metrics';
import { activitySlots } from '../worker/activity-slots';

export interface RunningWorker {
  /** Settles when the worker stopped (after close(), or on a fatal error). */
  done: Promise<void>;
  close(): Promise<void>;
}

/** The worker process: Temporal worker + the reconciler for events stored while Temporal was away. */
export async function startWorker(
  config: Config,
  log: Logger,
  workflowBundle?: WorkflowBundleOption,
): Promise<RunningWorker> {
  const db = await connectDatabase(config.mongoUrl, storeOptionsFromConfig(config));
  const temporal = await connectTemporal(config.temporal);
  const { endpoints, messages, tenants } = db.stores;
  const metrics = createWorkerMetrics();
  const support = createSupportMetrics(metrics.registry);
  const reruns = rerunServiceFromConfig(config, db.stores, temporal.client, support.rerun);
  const stripeClients = createStripeClientResolver({
    api: config.stripeApi,
    defaultTenant: config.defaultTenant,
    tenants: config.tenants.masterKey ? tenants : null,
  });
  const slots = config.workerActivitySlots ?? activitySlots(config.http.bodyLimitBytes);
  const worker = await createHookflowWorker(
    config.temporal,
    {
      stores: db.stores,
      state: config.state,
      observe: { eventProcessed: support.eventProcessed },
      bulkReruns: { reruns, stores: db.stores },
      outbound: buildOutboundDeps(
        config,
        { endpoints, messages },
        temporal.client,
        log,
        createOutboundMetrics(metrics.registry),
      ),
      business: {
        events: db.stores.events,
        cases: db.stores.cases,
        paymentSessions: db.stores.paymentSessions,
        clerkLinks: db.stores.clerkLinks,
        clerkFor: config.tenants.masterKey
          ? createTenantClerkResolver(config.clerk, (tenantId) => tenants.clerkSettings(tenantId))
          : createGlobalClerkResolver(config.clerk),
        sessionMetadataKey: config.sessions.metadataKey,
      },
      refetch: { fetch: createObjectRefetcher(stripeClients), resources: config.stripeApi.refetchResources },
      childLists: createChildListCompleter(stripeClients),
      stripe: {
        clients: stripeClients,
        stores: db.stores,
        startEventWorkflow: (input) => startEventWorkflow(temporal.client, config.temporal.taskQueue, input),
      },
    },
    {
      workflowBundle,
      clerkActivitiesPerSecond: clerkActivitiesPerSecond(config.clerk),
      stripeRequestsPerSecond: config.stripeApi.requestsPerSecond,
      activitySlots: slots,
    },
  );
  const reconciler = createReconciler({
    events: db.stores.events,
    startWorkflow: (input) => startEventWorkflow(temporal.client, config.temporal.taskQueue, input),
    log,
    afterSeconds: config.reconciler.afterSeconds,
    intervalSeconds: config.reconciler.intervalSeconds,
    maxAttempts: config.reconciler.maxAttempts,
    observe: metrics.reconciler,
  });
  const metricsServer =
    config.workerMetricsPort === null
      ? null
      : await serveWorkerMetrics(metrics.registry, config.http.host, config.workerMetricsPort);
  reconciler.start();
  const { catchUp } = config.stripeApi;
  if (catchUp.everySeconds !== null) {
    // Only the default tenant's key is known here; stored tenants run `hookflow catch-up --tenant`.
    if (!config.stripeApi.apiKey) log.warn('CATCHUP_SCHEDULE is set but STRIPE_API_KEY is not: no catch-up schedule');
    else {
      const scheduleId = await ensureCatchUpSchedule(temporal.client, {
        tenantId: config.defaultTenant,
        taskQueue: config.temporal.taskQueue,
        everySeconds: catchUp.everySeconds,
        windowSeconds: catchUp.windowSeconds,
      });
      log.info({ scheduleId, everySeconds: catchUp.everySeconds }, 'catch-up schedule in place');
    }
  }
  log.info(
    {
      taskQueue: config.temporal.taskQueue,
      metricsPort: config.workerMetricsPort,
      activitySlots: slots,
      heapLimitMiB: Math.round(getHeapStatistics().heap_size_limit / 1024 / 1024),
    },
    'worker running',
  );
  const done = worker.run().finally(async () => {
    await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
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
