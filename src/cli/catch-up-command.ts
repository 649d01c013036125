import { WorkflowIdReusePolicy } from '@temporalio/common';
import { Command, Option } from 'commander';
import type { catchUpStripeEvents } from '../../workflows';
import { loadConfig } from '../config';
import { catchUpWorkflowId } from '../contracts';
import { connectTemporal } from '../temporal/client';
import { checkAccount, newRunId } from './backfill-command';
import { requireStripeKey } from './stripe-key-check';
import { parseSince } from './time-bound';

interface CatchUpOptions {
  since: string;
  tenant?: string;
  environment?: 'live' | 'sandbox';
  account?: string;
  json?: boolean;
}

/**
 * `hookflow catch-up`: after downtime, feeds every event Stripe lists since a time through the
 * receiver's path (same ledger insert, same workflow id) and reports what it found.
 */
export function catchUpCommand(): Command {
  return new Command('catch-up')
    .description("feed events from Stripe's Events API that hookflow has not stored (after downtime)")
    .option('--since <date|duration>', 'events created since (Stripe keeps 30 days): 2h, 3d, 2026-11-20', '1h')
    .option('--tenant <id>', 'tenant whose Stripe key and ledger (default: HOOKFLOW_DEFAULT_TENANT)')
    .addOption(
      new Option('--environment <environment>', "which of a stored tenant's keys").choices(['live', 'sandbox']),
    )
    .option('--account <acct>', "a connected account's events (Stripe Connect)")
    .option('--json', 'print the counts as JSON')
    .action(async (options: CatchUpOptions) => {
      const since = parseSince(options.since);
      checkAccount(options.account);
      const config = loadConfig();
      const tenantId = options.tenant ?? config.defaultTenant;
      await requireStripeKey(config, tenantId, options.environment);
      const temporal = await connectTemporal(config.temporal);
      try {
        const runId = newRunId();
        const result = await temporal.client.workflow.execute<typeof catchUpStripeEvents>('catchUpStripeEvents', {
          taskQueue: config.temporal.taskQueue,
          workflowId: catchUpWorkflowId(tenantId, runId),
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          args: [{ tenantId, environment: options.environment, account: options.account, runId, since }],
        });
        process.stdout.write(
          options.json
            ? `${JSON.stringify({ runId, ...result })}\n`
            : `catch-up ${runId} since ${new Date(since * 1000).toISOString()}: ${result.seen} events seen, ${result.alreadyStored} already stored, ${result.stored} new stored, ${result.started} workflows started\n`,
        );
      } finally {
        await temporal.close();
      }
    });
}
