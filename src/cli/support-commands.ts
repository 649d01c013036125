import { Command } from 'commander';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { loadConfig } from '../config';
import type { EventListItem, EventQueries } from '../support/event-queries';
import type { BulkRerunJob, RerunService } from '../support/reruns';
import { CliError, databaseUnreachable } from './cli-errors';

/**
 * `hookflow events list|show` and `hookflow rerun`: the support service layer (src/support) on the
 * process's config — the same filters, checks and audit records as `/api/events` and the admin page.
 * Every refusal is one line and exit code 1 (main.ts prints CliErrors without a stack).
 */

/** Who a re-run from the command line is recorded as: `cli:<os user>`. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

interface Support {
  queries: EventQueries;
  reruns: RerunService;
}

async function withSupport<T>(run: (support: Support) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const [{ connectDatabase }, { storeOptionsFromConfig }, { connectTemporal }, deps, outbound, plan] =
    await Promise.all([
      import('../db/connection'),
      import('../stores'),
      import('../temporal/client'),
      import('../support/support-deps'),
      import('../outbound/delivery-service'),
      import('../outbound/outbound-deps'),
    ]);
  const db = await connectDatabase(config.mongoUrl, storeOptionsFromConfig(config)).catch((error: unknown) => {
    throw databaseUnreachable(error, config.mongoUrl) ?? error;
  });
  try {
    const temporal = await connectTemporal(config.temporal);
    try {
      // The event detail lists the event's outbound deliveries as the receiver's API does.
      const deliveries = outbound.createDeliveryService({
        messages: db.stores.messages,
        endpoints: db.stores.endpoints,
        temporal: temporal.client,
        taskQueue: config.temporal.taskQueue,
        plan: plan.deliveryPlanOf(config),
      });
      return await run({
        queries: deps.eventQueriesFromConfig(
          config,
          db.stores,
          temporal.client,
          (tenantId, eventId) =>
            deliveries.ofEvent(tenantId, eventId) as unknown as Promise<Array<Record<string, unknown>>>,
        ),
        reruns: deps.rerunServiceFromConfig(config, db.stores, temporal.client),
      }).catch(async (error: unknown) => {
        throw await asCliError(error);
      });
    } finally {
      await temporal.close();
    }
  } finally {
    await db.close();
  }
}

/** The service's own errors say what is wrong and what to do: one line each. */
async function asCliError(error: unknown): Promise<unknown> {
  const known = [
    'InvalidEventQuery',
    'EventNotFound',
    'AmbiguousEventId',
    'InvalidRerunRequest',
    'RerunRefused',
    'BulkRerunRejected',
    'BulkRerunRunning',
    'BulkRerunNotFound',
  ];
  return error instanceof Error && known.includes(error.name) ? new CliError(error.message) : error;
}

const write = (text: string) => process.stdout.write(text);

interface FilterOptions {
  status?: string;
  type?: string;
  object?: string;
  customer?: string;
  account?: string;
  tenant?: string;
  since?: string;
  until?: string;
}

function filterOf(options: FilterOptions): Record<string, string> {
  const filter: Record<string, string> = {};
  for (const key of ['tenant', 'status', 'type', 'object', 'customer', 'account', 'since', 'until'] as const) {
    if (options[key] !== undefined) filter[key] = options[key];
  }
  return filter;
}

function withFilterOptions(command: Command): Command {
  return command
    .option('--status <status>', 'received, processing, processed or failed')
    .option('--type <type>', 'event type, or a prefix with a wildcard: charge.dispute.*')
    .option('--object <id>', 'Stripe object id (data.object.id)')
    .option('--customer <cus_id>', 'Stripe customer id')
    .option('--account <acct_id>', 'Stripe Connect: events of this connected account')
    .option('--tenant <id>', 'tenant id (default: every tenant; a bulk re-run: the default tenant)')
    .option('--since <when>', 'received at or after: 30m, 2h, 7d or an ISO date')
    .option('--until <when>', 'received before: 30m, 2h, 7d or an ISO date');
}

function line(event: EventListItem): string {
  const error = event.error ? `  ${event.error.type ? `${event.error.type}: ` : ''}${event.error.message}` : '';
  return `${event.receivedAt}  ${event.eventId}  ${event.type}  ${event.status}${event.outcome ? ` (${event.outcome})` : ''}  ${event.tenantId}${error}\n`;
}

export function eventsCommand(): Command {
  const events = new Command('events').description('find stored Stripe events and see why one failed');

  withFilterOptions(events.command('list'))
    .description('list events, newest first, with filters')
    .option('--limit <n>', 'events per page (1-200)', '50')
    .option('--cursor <cursor>', 'continue after a previous page (its next cursor)')
    .option('--json', 'print JSON')
    .action(async (options: FilterOptions & { limit: string; cursor?: string; json?: boolean }) => {
      const { parseEventListQuery } = await import('../support/event-queries');
      const query = await Promise.resolve()
        .then(() => parseEventListQuery({ ...filterOf(options), limit: options.limit, cursor: options.cursor }))
        .catch(async (error: unknown) => {
          throw await asCliError(error);
        });
      const page = await withSupport(({ queries }) => queries.list(query));
      if (options.json) {
        write(`${JSON.stringify(page, null, 2)}\n`);
        return;
      }
      if (page.events.length === 0) write('No events match.\n');
      for (const event of page.events) write(line(event));
      if (page.nextCursor) write(`More: --cursor ${page.nextCursor}\n`);
    });

  events
    .command('show <event-id>')
    .description('one event: summary, failure, payload, object state, cases, deliveries, re-runs, Temporal link')
    .option('--tenant <id>', 'tenant id, when the event id is stored under several')
    .option('--json', 'print JSON')
    .action(async (eventId: string, options: { tenant?: string; json?: boolean }) => {
      const detail = await withSupport(({ queries }) => queries.show(eventId, options.tenant));
      if (options.json) {
        write(`${JSON.stringify(detail, null, 2)}\n`);
        return;
      }
      const { event, temporal } = detail;
      write(line(event));
      write(
        `  object ${event.objectId ?? '-'}  customer ${event.customerId ?? '-'}${event.account ? `  account ${event.account}` : ''}  attempts ${event.attempts}\n`,
      );
      write(
        `  workflow ${temporal.workflowId}  run ${temporal.runId ?? '-'}${temporal.uiUrl ? `\n  ${temporal.uiUrl}` : ''}\n`,
      );
      for (const rerun of detail.reruns) {
        write(
          `  re-run ${rerun.seq}: ${new Date(rerun.at).toISOString()} by ${rerun.by} (${rerun.trigger}) → ${rerun.result}: ${rerun.reason}\n`,
        );
      }
      write(`  cases ${detail.cases.length}, deliveries ${detail.deliveries.length}\n${event.payload}\n`);
    });

  return events;
}

export function rerunCommand(): Command {
  return withFilterOptions(
    new Command('rerun')
      .description('re-run a failed event (or --failed: every failed event matching filters) with a reason, audited')
      .argument('[event-id]', 'the event to re-run'),
  )
    .option('--reason <text>', 'why (required, at most 1,000 characters)')
    .option('--force', 'also re-run a processed event (under a derived workflow id)')
    .option('--failed', 'bulk: every currently failed event matching the filters')
    .option('--yes', 'bulk: start without asking')
    .option('--watch <job-id>', 'follow a running bulk re-run')
    .option('--cancel <job-id>', 'cancel a bulk re-run')
    .option('--json', 'print JSON')
    .action(
      async (
        eventId: string | undefined,
        options: FilterOptions & {
          reason?: string;
          force?: boolean;
          failed?: boolean;
          yes?: boolean;
          watch?: string;
          cancel?: string;
          json?: boolean;
        },
      ) => {
        const by = cliActor();
        if (options.cancel) {
          const job = await withSupport(({ reruns }) => reruns.cancelBulkRerun(options.cancel!, by));
          write(options.json ? `${JSON.stringify({ job }, null, 2)}\n` : `${summary(job)}\n`);
          return;
        }
        if (options.watch) {
          await withSupport(({ reruns }) => follow(reruns, options.watch!, options.json === true));
          return;
        }
        if (options.failed) {
          if (eventId) throw new CliError('give either an event id or --failed with filters, not both');
          await withSupport((support) => bulk(support.reruns, filterOf(options), options.reason, by, options));
          return;
        }
        if (!eventId) throw new CliError('name the event to re-run (evt_…), or use --failed with filters');
        const result = await withSupport(({ reruns }) =>
          reruns.rerunEvent({
            eventId,
            tenantId: options.tenant,
            reason: options.reason ?? '',
            by,
            force: options.force,
          }),
        );
        if (options.json) {
          write(`${JSON.stringify(result, null, 2)}\n`);
          return;
        }
        const { rerun } = result;
        write(
          `re-run ${rerun.seq} of ${rerun.eventId} started: workflow ${rerun.workflowId} run ${rerun.runId}` +
            `${rerun.forced ? ' (forced: derived id)' : ''}; previous run ${rerun.previousRunId ?? '-'}\n`,
        );
      },
    );
}

async function bulk(
  reruns: RerunService,
  filter: Record<string, string>,
  reason: string | undefined,
  by: string,
  options: { yes?: boolean; json?: boolean },
): Promise<void> {
  const { parseReason } = await import('../support/reruns');
  parseReason(reason);
  const plan = await reruns.planBulkRerun(filter);
  if (!options.json) {
    write(
      `Plan: ${plan.count}${plan.overCap ? '+' : ''} failed event(s) of tenant ${plan.tenantId} match ` +
        `(cap ${plan.cap}). First: ${plan.firstEventIds.join(', ') || '-'}\n`,
    );
  }
  if (plan.overCap || plan.count === 0) {
    // startBulkRerun refuses these with the message that says what to do.
    await reruns.startBulkRerun({ filter, reason: reason!, by });
  }
  if (!options.yes) {
    if (!process.stdin.isTTY) throw new CliError('not a terminal: pass --yes to start the bulk re-run without asking');
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(`Re-run these ${plan.count} event(s)? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      write('Nothing started.\n');
      return;
    }
  }
  const job = await reruns.startBulkRerun({ filter, reason: reason!, by });
  if (!options.json)
    write(
      `Started bulk re-run ${job.id}. Ctrl-C stops watching (the job goes on); cancel with: hookflow rerun --cancel ${job.id}\n`,
    );
  await follow(reruns, job.id, options.json === true);
}

/** A progress bar over the job record until the job ends (or Ctrl-C, which leaves it running). */
async function follow(reruns: RerunService, jobId: string, json: boolean): Promise<void> {
  let job = await reruns.getBulkRerun(jobId);
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = json
    ? null
    : new SingleBar(
        { format: 're-run {bar} {value}/{total} | started {started} skipped {skipped} failed {failed} | {state}' },
        Presets.shades_classic,
      );
  bar?.start(job.planned, 0, payload(job));
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
  };
  process.once('SIGINT', onInterrupt);
  try {
    while (job.state === 'running' && !interrupted) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = await reruns.getBulkRerun(jobId);
      bar?.update(done(job), payload(job));
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    bar?.stop();
  }
  if (json) write(`${JSON.stringify({ job }, null, 2)}\n`);
  else if (interrupted) write(`Still running: hookflow rerun --watch ${jobId} · hookflow rerun --cancel ${jobId}\n`);
  else write(`${summary(job)}\n`);
}

const done = (job: BulkRerunJob) => job.started + job.skipped + job.failedStarts;
const payload = (job: BulkRerunJob) => ({
  started: job.started,
  skipped: job.skipped,
  failed: job.failedStarts,
  state: job.state,
});

function summary(job: BulkRerunJob): string {
  return (
    `bulk re-run ${job.id} ${job.state}: ${job.started} started, ${job.skipped} skipped, ${job.failedStarts} failed to start ` +
    `of ${job.planned} planned${job.cancelledBy ? ` (cancelled by ${job.cancelledBy})` : ''}${job.lastError ? `; last error: ${job.lastError}` : ''}`
  );
}
