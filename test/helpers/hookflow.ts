import { WorkflowNotFoundError } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config';
import { connectDatabase, type Database } from '../../src/db/connection';
import { createLogger } from '../../src/logger';
import { startReceiver } from '../../src/processes/receiver';
import { startWorker } from '../../src/processes/worker';
import { connectTemporal, type TemporalClient } from '../../src/temporal/client';
import { testStack } from '../setup/global-stack';

export const SECRET_A = 'whsec_test_primary_0123456789abcdef';
export const SECRET_B = 'whsec_test_rotated_fedcba9876543210';

export interface RunningHookflow {
  config: Config;
  webhookUrl: string;
  baseUrl: string;
  db: Database;
  temporal: TemporalClient;
  close(): Promise<void>;
}

/**
 * A complete hookflow — receiver and worker, as `hookflow serve` and `hookflow worker` build them —
 * on the shared test stack, with its own database and task queue so test files never see each
 * other's data or workflows.
 */
export async function startHookflow(env: Record<string, string> = {}): Promise<RunningHookflow> {
  const { stack, workflowBundle } = testStack();
  const suffix = randomBytes(4).toString('hex');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    MONGO_URL: stack.mongoUrl(`hookflow_test_${suffix}`),
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: `hookflow-test-${suffix}`,
    STRIPE_WEBHOOK_SECRET: `${SECRET_A},${SECRET_B}`,
    ...env,
  });
  const log = createLogger(config.logLevel);
  const worker = await startWorker(config, log, workflowBundle);
  const receiver = await startReceiver(config, log);
  const db = await connectDatabase(config.mongoUrl);
  const temporal = await connectTemporal(config.temporal);
  return {
    config,
    baseUrl: receiver.url,
    webhookUrl: `${receiver.url}/webhooks/stripe`,
    db,
    temporal,
    async close() {
      await receiver.close();
      await worker.close();
      await temporal.close();
      await db.connection.dropDatabase();
      await db.close();
    },
  };
}

/** Waits for a stored event to reach a terminal status (the workflow's last activity wrote it). */
export async function waitForEventStatus(hookflow: RunningHookflow, eventId: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = await hookflow.db.models.StripeEvent.findOne({ eventId }).lean();
    if (event && (event.status === 'processed' || event.status === 'failed')) return event;
    if (Date.now() > deadline)
      throw new Error(`event ${eventId} not processed in ${timeoutMs} ms (status ${event?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Waits for the event's workflow to close and returns its result. The receiver starts workflows
 * after answering, so the run may not exist yet when the delivery's response arrives.
 */
export async function workflowResult<T = unknown>(
  hookflow: RunningHookflow,
  workflowId: string,
  timeoutMs = 30_000,
): Promise<T> {
  const handle = hookflow.temporal.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return (await handle.result()) as T;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Lists workflow executions matching a visibility query, polling until at least `atLeast` show up
 * (visibility is eventually consistent) or a few seconds pass.
 */
export async function listWorkflows(hookflow: RunningHookflow, query: string, atLeast: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = [];
    for await (const execution of hookflow.temporal.client.workflow.list({ query })) found.push(execution);
    if (found.length >= atLeast || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
