import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../version';
import { startHookflowProcesses } from './hookflow-processes';
import {
  NUM_HISTORY_SHARDS,
  PROD_RECEIVERS,
  PROD_WORKERS,
  TASK_QUEUE_PARTITIONS,
  TEMPORAL_SERVER_VERSION,
} from './prod-settings';
import { defaultProdPorts, startProdInfra } from './prod-stack';

/**
 * `npm run stack:prod`: the production shape on this machine — PostgreSQL, temporal-server with
 * SQL visibility, the Temporal UI, FerretDB, two receivers and two workers as separate processes —
 * with its data under `.data/prod/` (kept between runs). Ctrl-C stops everything, receivers first.
 */
const DATA_DIR = join(REPO_ROOT, '.data', 'prod');
const RECEIVER_PORTS = [4242, 4243].slice(0, PROD_RECEIVERS);
const WORKER_METRICS_PORTS = [9464, 9465].slice(0, PROD_WORKERS);

async function main(): Promise<void> {
  mkdirSync(DATA_DIR, { recursive: true });
  const began = Date.now();
  process.stdout.write(`starting the production-shape stack in ${DATA_DIR} …\n`);
  const ports = defaultProdPorts();
  const infra = await startProdInfra({ dataDir: DATA_DIR, ports });
  const secret = process.env.STRIPE_WEBHOOK_SECRET ?? stackSecret();
  let hookflow;
  try {
    hookflow = await startHookflowProcesses({
      env: {
        ...process.env,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        MONGO_URL: infra.mongoUrl('hookflow'),
        TEMPORAL_ADDRESS: infra.temporalAddress,
        TEMPORAL_NAMESPACE: infra.namespace,
        STRIPE_WEBHOOK_SECRET: secret,
      },
      receiverPorts: RECEIVER_PORTS,
      workerMetricsPorts: WORKER_METRICS_PORTS,
      logDir: infra.logDir,
    });
  } catch (error) {
    await infra.stop();
    throw error;
  }
  const running = hookflow;
  process.stdout.write(
    [
      '',
      `hookflow production shape is running (${((Date.now() - began) / 1000).toFixed(1)} s)`,
      ...running.receiverUrls.map((url, index) => `  receiver ${index + 1}    ${url}/webhooks/stripe`),
      ...WORKER_METRICS_PORTS.map(
        (port, index) => `  worker ${index + 1}      metrics http://127.0.0.1:${port}/metrics`,
      ),
      `  Temporal      ${infra.temporalAddress} (temporal-server ${TEMPORAL_SERVER_VERSION}, PostgreSQL, ${NUM_HISTORY_SHARDS} history shards, ${TASK_QUEUE_PARTITIONS} task-queue partitions, SQL visibility)`,
      `  Temporal UI   ${infra.uiUrl}`,
      `  PostgreSQL    127.0.0.1:${ports.postgres}   MongoDB (FerretDB) ${infra.mongoUrl('hookflow')}`,
      process.env.STRIPE_WEBHOOK_SECRET
        ? '  signing secret from STRIPE_WEBHOOK_SECRET'
        : `  signing secret ${secret}  (kept in .data/prod/webhook-secret)`,
      `  logs in ${infra.logDir}; Ctrl-C stops everything, data stays in .data/prod/`,
      '',
    ].join('\n') + '\n',
  );
  let stopping = false;
  const stop = async (exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping: receivers, workers, UI, Temporal, PostgreSQL, FerretDB …\n');
    await running.stop();
    await infra.stop();
    process.stdout.write('stopped\n');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // A hookflow process that dies is a failure of the stack, not something to hide.
  for (const child of [...running.receivers, ...running.workers]) {
    void child.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`${child.name} exited (code ${code}); see ${child.logFile}. Stopping the stack.\n`);
      void stop(1);
    });
  }
}

function stackSecret(): string {
  const file = join(DATA_DIR, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}

main().catch((error: unknown) => {
  process.stderr.write(`stack:prod failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
