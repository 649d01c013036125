import { WorkflowIdReusePolicy } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Command, Option } from 'commander';
import { randomBytes } from 'node:crypto';
import type { backfillStripe } from '../../workflows';
import { loadConfig, type Config } from '../config';
import { backfillWorkflowId } from '../contracts';
import { connectTemporal } from '../temporal/client';
import { parseSnapshotResources, UnknownResourceError } from '../stripe/snapshot-resources';
import { followBackfill, progressLine, readBackfill, type BackfillSnapshot } from './backfill-progress';
import { CliError } from './cli-errors';
import { requireStripeKey } from './stripe-key-check';
import { parseSince } from './time-bound';

interface TargetOptions {
  tenant?: string;
  environment?: 'live' | 'sandbox';
  account?: string;
}

interface StartOptions extends TargetOptions {
  since?: string;
  detach?: boolean;
  json?: boolean;
}

/**
 * `hookflow backfill <resources…|all>`: loads the current state of Stripe objects into the
 * object-state table through a durable workflow, and shows its progress; `status`, `attach` and
 * `cancel` work on a run by id.
 */
export function backfillCommand(): Command {
  const backfill = new Command('backfill')
    .description('load the current state of Stripe objects (snapshot backfill) into the object-state table')
    .argument('[resources...]', 'customer, charge, payment_intent, invoice, subscription, … or all')
    .option('--since <date|duration>', 'only objects created since (2026-01-01, 30d, 12h)')
    .option('--tenant <id>', 'tenant whose Stripe key and data (default: HOOKFLOW_DEFAULT_TENANT)')
    .addOption(
      new Option('--environment <environment>', "which of a stored tenant's keys").choices(['live', 'sandbox']),
    )
    .option('--account <acct>', 'a connected account (Stripe Connect) to load instead of the platform')
    .option('--detach', 'start the run and return; follow it later with `hookflow backfill attach <run>`')
    .option('--json', 'print the final progress as JSON')
    .action(async (names: string[], options: StartOptions) => {
      let resources;
      try {
        resources = parseSnapshotResources(names);
      } catch (error) {
        if (error instanceof UnknownResourceError) throw new CliError(error.message);
        throw error;
      }
      checkAccount(options.account);
      const since = options.since === undefined ? null : parseSince(options.since);
      const config = loadConfig();
      const tenantId = options.tenant ?? config.defaultTenant;
      await requireStripeKey(config, tenantId, options.environment);
      await withTemporal(config, async (client) => {
        const runId = newRunId();
        await client.workflow.start<typeof backfillStripe>('backfillStripe', {
          taskQueue: config.temporal.taskQueue,
          workflowId: backfillWorkflowId(tenantId, runId),
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [{ tenantId, environment: options.environment, account: options.account, runId, resources, since }],
        });
        process.stderr.write(`backfill ${runId} started (${resources.join(', ')}) for tenant ${tenantId}\n`);
        if (options.detach) {
          process.stdout.write(
            `${options.json ? JSON.stringify({ runId, tenantId, resources }) : `run ${runId}: hookflow backfill attach ${runId}${tenantFlag(tenantId, config)}`}\n`,
          );
          return;
        }
        report(await followBackfill(client, tenantId, runId), options.json);
      });
    });

  backfill
    .command('status <run>')
    .description('print the progress of a backfill run')
    .option('--tenant <id>', 'tenant of the run (default: HOOKFLOW_DEFAULT_TENANT)')
    .option('--json', 'print JSON')
    .action(async (runId: string, _options: unknown, command: Command) => {
      // --tenant and --json are the parent's options too: commander hands them to `backfill`.
      const options = command.optsWithGlobals<{ tenant?: string; json?: boolean }>();
      const config = loadConfig();
      const tenantId = options.tenant ?? config.defaultTenant;
      await withTemporal(config, async (client) => {
        const snapshot = await findRun(client, tenantId, runId);
        if (options.json) process.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
        else {
          process.stdout.write(`backfill ${runId}: ${snapshot.run.state} (${snapshot.status.toLowerCase()})\n`);
          for (const progress of snapshot.resources) process.stdout.write(`  ${progressLine(progress)}\n`);
        }
      });
    });

  backfill
    .command('attach <run>')
    .description('follow a running backfill (progress bars) until it ends; Ctrl-C leaves it running')
    .option('--tenant <id>', 'tenant of the run (default: HOOKFLOW_DEFAULT_TENANT)')
    .option('--json', 'print the final progress as JSON')
    .action(async (runId: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ tenant?: string; json?: boolean }>();
      const config = loadConfig();
      const tenantId = options.tenant ?? config.defaultTenant;
      await withTemporal(config, async (client) => {
        await findRun(client, tenantId, runId);
        report(await followBackfill(client, tenantId, runId), options.json);
      });
    });

  backfill
    .command('cancel <run>')
    .description('cancel a backfill run (objects already written stay)')
    .option('--tenant <id>', 'tenant of the run (default: HOOKFLOW_DEFAULT_TENANT)')
    .action(async (runId: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<{ tenant?: string }>();
      const config = loadConfig();
      const tenantId = options.tenant ?? config.defaultTenant;
      await withTemporal(config, async (client) => {
        const snapshot = await findRun(client, tenantId, runId);
        if (snapshot.closed) throw new CliError(`backfill ${runId} is not running (${snapshot.status.toLowerCase()}).`);
        await client.workflow.getHandle(backfillWorkflowId(tenantId, runId)).cancel();
        process.stdout.write(`backfill ${runId}: cancellation requested\n`);
      });
    });

  return backfill;
}

function report(snapshot: BackfillSnapshot, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(snapshot, null, 2)}\n`);
  else {
    const objects = snapshot.resources.reduce((sum, progress) => sum + progress.objects, 0);
    process.stdout.write(`backfill ${snapshot.run.runId} ${snapshot.run.state}: ${objects} objects\n`);
  }
  if (!snapshot.closed) {
    process.stdout.write(`still running: hookflow backfill attach ${snapshot.run.runId}\n`);
    return;
  }
  if (snapshot.run.state !== 'completed') {
    const failed = snapshot.resources.filter((progress) => progress.error);
    throw new CliError(
      `backfill ${snapshot.run.runId} ${snapshot.run.state}${failed.length ? `: ${failed.map((p) => `${p.resource}: ${p.error}`).join('; ')}` : ''}`,
    );
  }
}

async function findRun(client: Client, tenantId: string, runId: string): Promise<BackfillSnapshot> {
  try {
    return await readBackfill(client, tenantId, runId);
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CliError(
        `no backfill run '${runId}' for tenant ${tenantId} (workflow ${backfillWorkflowId(tenantId, runId)}).`,
      );
    }
    throw error;
  }
}

async function withTemporal(config: Config, run: (client: Client) => Promise<void>): Promise<void> {
  const temporal = await connectTemporal(config.temporal);
  try {
    await run(temporal.client);
  } finally {
    await temporal.close();
  }
}

/** Sortable and short: `20261127T0312-a1b2c3`. */
export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 13);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function checkAccount(account: string | undefined): void {
  if (account !== undefined && !/^acct_[A-Za-z0-9]+$/.test(account)) {
    throw new CliError(`--account '${account}' is not a connected account id (acct_…).`);
  }
}

function tenantFlag(tenantId: string, config: Config): string {
  return tenantId === config.defaultTenant ? '' : ` --tenant ${tenantId}`;
}
