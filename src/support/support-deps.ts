import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Stores } from '../stores';
import { createEventQueries, type EventQueries, type EventQueriesDeps } from './event-queries';
import { createRerunService, type RerunService, type RerunServiceDeps } from './reruns';

/** The re-run service as the receiver, the worker (bulk jobs) and the CLI build it from config. */
export function rerunServiceFromConfig(
  config: Config,
  stores: Stores,
  client: Client,
  observe?: RerunServiceDeps['observe'],
): RerunService {
  return createRerunService({
    stores,
    temporal: { client, taskQueue: config.temporal.taskQueue },
    defaultTenant: config.defaultTenant,
    limits: { maxBulkEvents: config.support.rerunMaxEvents, bulkPerSecond: config.support.rerunPerSecond },
    observe,
  });
}

/** The event queries as the receiver and the CLI build them from config. */
export function eventQueriesFromConfig(
  config: Config,
  stores: Stores,
  client: Client | null,
  deliveriesOfEvent?: EventQueriesDeps['deliveriesOfEvent'],
): EventQueries {
  return createEventQueries({
    stores,
    defaultTenant: config.defaultTenant,
    temporalUi: { uiUrl: config.support.temporalUiUrl, namespace: config.temporal.namespace },
    deliveriesOfEvent,
    describeRun: client
      ? async (workflowId) => {
          const description = await client.workflow.getHandle(workflowId).describe();
          return { runId: description.runId, status: description.status.name };
        }
      : undefined,
  });
}
