import type { Server } from 'node:http';
import type { Config } from '../config';
import { connectDatabase, type Database } from '../db/connection';
import { storeOptionsFromConfig } from '../stores';
import type { Logger } from '../logger';
import { createDeliveryService } from '../outbound/delivery-service';
import { deliveryPlanOf } from '../outbound/outbound-deps';
import { createApp } from '../receiver/app';
import { eventQueriesFromConfig, rerunServiceFromConfig } from '../support/support-deps';
import { createSupportMetrics, type SupportMetrics } from '../support/support-metrics';
import { answerClientError } from '../receiver/error-handler';
import type { TenantResolver } from '../receiver/tenants';
import { connectTemporal, type TemporalClient } from '../temporal/client';
import { startEventWorkflow } from '../temporal/event-workflows';
import { createReceiverTenantResolver } from '../tenants/open-tenants';

export interface RunningReceiver {
  url: string;
  close(): Promise<void>;
}

/**
 * The receiver process: connects, serves, and on close stops accepting, lets in-flight requests
 * finish, then closes its connections.
 */
export async function startReceiver(config: Config, log: Logger): Promise<RunningReceiver> {
  const db: Database = await connectDatabase(config.mongoUrl, storeOptionsFromConfig(config));
  let temporal: TemporalClient;
  let resolveTenant: TenantResolver;
  try {
    resolveTenant = await createReceiverTenantResolver(config, db.stores.tenants, log);
    temporal = await connectTemporal(config.temporal);
  } catch (error) {
    await db.close();
    throw error;
  }
  if (config.stripe.webhookSecrets.length === 0 && !config.tenants.masterKey) {
    log.warn('STRIPE_WEBHOOK_SECRET is empty: every delivery will be refused until it is set');
  }
  const deliveries = createDeliveryService({
    messages: db.stores.messages,
    endpoints: db.stores.endpoints,
    temporal: temporal.client,
    taskQueue: config.temporal.taskQueue,
    plan: deliveryPlanOf(config),
  });
  // Counted on the app's registry, which exists once the app does: re-runs start only after that.
  const support: { metrics?: SupportMetrics } = {};
  const eventsApi = {
    queries: eventQueriesFromConfig(
      config,
      db.stores,
      temporal.client,
      (tenantId, eventId) =>
        deliveries.ofEvent(tenantId, eventId) as unknown as Promise<Array<Record<string, unknown>>>,
    ),
    reruns: rerunServiceFromConfig(config, db.stores, temporal.client, (trigger, result) =>
      support.metrics?.rerun(trigger, result),
    ),
    adminToken: config.adminToken,
  };
  const { app, drainStarts, registry } = createApp({
    log,
    onRedeliveryRestart: (count) => {
      for (let restart = 0; restart < count; restart++) support.metrics?.rerun('redelivery', 'started');
    },
    events: db.stores.events,
    resolveTenant,
    startWorkflow: (input) => startEventWorkflow(temporal.client, config.temporal.taskQueue, input),
    readiness: { mongo: () => db.ping(), temporal: () => temporal.ping() },
    bodyLimitBytes: config.http.bodyLimitBytes,
    bodyInFlightBytes: config.http.inFlightBytes,
    intake: config.intake,
    toleranceSeconds: config.stripe.toleranceSeconds,
    adminApi: {
      cases: db.stores.cases,
      paymentSessions: db.stores.paymentSessions,
      adminToken: config.adminToken,
    },
    deliveriesApi: { deliveries, adminToken: config.adminToken },
    eventsApi,
    adminUi: {
      adminToken: config.adminToken,
      events: eventsApi.queries,
      reruns: eventsApi.reruns,
      deliveries,
      endpoints: db.stores.endpoints,
      cases: db.stores.cases,
    },
  });
  support.metrics = createSupportMetrics(registry);
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.http.port, config.http.host, () => resolve(listening));
    listening.once('error', reject);
  });
  server.on('clientError', answerClientError);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.http.port;
  const url = `http://${config.http.host}:${port}`;
  log.info({ url }, 'receiver listening');
  return {
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Acknowledged events whose start is still queued: a few seconds to start them; whatever is
      // left stays in the inbox and the worker's reconciler starts it.
      await drainStarts(5_000);
      await temporal.close();
      await db.close();
    },
  };
}
