/**
 * The production shape's settings, in one place: the local production-shape stack
 * (src/stack/prod-stack.ts) runs with them and test/compose-file.test.ts checks docker-compose.yml
 * against them, so the stack the tests prove and the compose file a user deploys cannot drift apart.
 * scripts/bootstrap-prod.sh builds the same versions (checked by the same test).
 */

/** temporal-server built from go.temporal.io/server; docker-compose.yml runs the same release. */
export const TEMPORAL_SERVER_VERSION = '1.28.1';
/** Temporal UI server (Go module github.com/temporalio/ui-server/v2) and the temporalio/ui image tag. */
export const TEMPORAL_UI_VERSION = '2.39.0';
/** Debian's PostgreSQL here; the compose file's postgres image has the same major version. */
export const POSTGRES_MAJOR = 15;

/**
 * History shards: fixed when the cluster is created (Temporal cannot change it later). Four is
 * enough to prove the code on a multi-shard server and keeps a 2-core machine responsive; a real
 * deployment sizes it for its peak (Temporal suggests 512+ for production clusters that will grow).
 */
export const NUM_HISTORY_SHARDS = 4;

/**
 * Task-queue partitions (dynamic config; Temporal's default is 4), set explicitly so the stack and
 * the compose file cannot differ. Measured with hookflow's own workflows on the production shape
 * (`node dist/bench/prod-partitions.js 400 1,4,1,4,1,4`: one receiver, two workers, 400 events per
 * run, 2 shared cores): 4 partitions did 17.0 / 17.7 / 20.4 events/s, 1 partition 15.0 / 8.9 /
 * 11.8. With trivial workflows and one poller the issue had found the opposite (1 partition ~1.7×
 * faster); with two workers' pollers on hookflow's queues four partitions won every pairing.
 */
export const TASK_QUEUE_PARTITIONS = 4;

/**
 * How long Temporal keeps closed workflow histories. Seven days: longer than Stripe's 3-day retry
 * window (a redelivered event then still finds its workflow id), and long enough that a re-run on
 * Monday can still be compared with Friday's history in the UI. The lasting dedupe is the unique
 * (tenant, event id) index in MongoDB, not this.
 */
export const NAMESPACE_RETENTION_DAYS = 7;

/** Dynamic config of the server: the same keys and values in the stack and in docker-compose.yml. */
export const TEMPORAL_DYNAMIC_CONFIG: Record<string, boolean | number> = {
  // The server asks temporal.io for the latest version unless told not to.
  'frontend.enableServerVersionCheck': false,
  'matching.numTaskqueueReadPartitions': TASK_QUEUE_PARTITIONS,
  'matching.numTaskqueueWritePartitions': TASK_QUEUE_PARTITIONS,
};

/** Receivers and workers the production shape runs: two of each, as separate processes. */
export const PROD_RECEIVERS = 2;
export const PROD_WORKERS = 2;
