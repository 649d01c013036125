import { Command, InvalidArgumentError } from 'commander';
import { userInfo } from 'node:os';
import { loadConfig } from '../config';
import { connectDatabase } from '../db/connection';
import type { DeliveryService, DeliveryView, RecoverResult } from '../outbound/delivery-service';
import { storeOptionsFromConfig } from '../stores';
import { databaseUnreachable } from './cli-errors';
import type { StoreCommandIo } from './store-command';

export type DeliveriesCommandDeps = StoreCommandIo;

const MESSAGE_ID = /^msg_[0-9a-f]{32}$/;
const STATUSES = ['pending', 'delivering', 'delivered', 'failed', 'skipped'];

/** Who a resend from the command line is recorded as: `cli:<os user>`. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/**
 * Runs `run` with a delivery service on the process's config (MongoDB and Temporal), closing both
 * after; an operator mistake (unknown id, delivered message, disabled endpoint, bad --since) is one
 * line on stderr and exit code 1.
 */
export function deliveryCommandRunner(name: string, io: DeliveriesCommandDeps = {}) {
  const write = io.write ?? ((text: string) => process.stdout.write(text));
  const writeError = io.writeError ?? ((text: string) => process.stderr.write(text));
  return {
    /** `needsTemporal` false: reads only, so a list works while Temporal is down. */
    async withDeliveries(run: (deliveries: DeliveryService) => Promise<void>, needsTemporal = true): Promise<void> {
      const config = loadConfig(io.env ?? process.env);
      // Loaded here, not at the top: the other commands need neither the Temporal client nor the service.
      const [service, since, endpoints, temporalClient, deps] = await Promise.all([
        import('../outbound/delivery-service'),
        import('../outbound/since'),
        import('../stores/endpoint-store'),
        import('../temporal/client'),
        import('../outbound/outbound-deps'),
      ]);
      const db = await connectDatabase(config.mongoUrl, storeOptionsFromConfig(config)).catch((error: unknown) => {
        throw databaseUnreachable(error, config.mongoUrl) ?? error;
      });
      try {
        const temporal = needsTemporal ? await temporalClient.connectTemporal(config.temporal) : null;
        try {
          await run(
            service.createDeliveryService({
              messages: db.stores.messages,
              endpoints: db.stores.endpoints,
              temporal: temporal?.client ?? null,
              taskQueue: config.temporal.taskQueue,
              plan: deps.deliveryPlanOf(config),
            }),
          );
        } finally {
          await temporal?.close();
        }
      } catch (error) {
        const userErrors = [
          service.DeliveryNotFound,
          service.NotResendable,
          service.EndpointDisabled,
          endpoints.EndpointNotFound,
          since.InvalidSince,
          (await import('../stores/message-store')).InvalidCursor,
        ];
        if (!userErrors.some((type) => error instanceof type)) throw error;
        writeError(`hookflow ${name}: ${(error as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await db.close();
      }
    },
    output(json: boolean | undefined, value: unknown, text: string): void {
      write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
    },
    /** Bad arguments that need no database: one line, exit 1. */
    refuse(message: string): void {
      writeError(`hookflow ${name}: ${message}\n`);
      process.exitCode = 1;
    },
  };
}

/** `hookflow deliveries list|show|resend`: outbound webhook messages, failed ones first of all. */
export function deliveriesCommand(deps: DeliveriesCommandDeps = {}): Command {
  const { withDeliveries, output, refuse } = deliveryCommandRunner('deliveries', deps);
  const deliveries = new Command('deliveries').description('outbound webhook deliveries: list, show, resend');

  deliveries
    .command('list')
    .description('list deliveries, newest first (failed ones: newest failure first)')
    .option('--status <status>', `one of ${STATUSES.join(', ')}`, choice(STATUSES))
    .option('--endpoint <id>', 'only this endpoint (ep_…)')
    .option('--tenant <id>', 'only this tenant')
    .option('--limit <n>', 'how many (1–200)', integerIn(1, 200), 50)
    .option('--cursor <cursor>', 'the next page, as printed by the previous one')
    .option('--json', 'print JSON')
    .action(async (options: ListOptions) => {
      await withDeliveries(async (service) => {
        const page = await service.list({
          limit: options.limit,
          ...(options.status ? { status: options.status as DeliveryView['status'] } : {}),
          ...(options.endpoint ? { endpointId: options.endpoint } : {}),
          ...(options.tenant ? { tenantId: options.tenant } : {}),
          ...(options.cursor ? { cursor: options.cursor } : {}),
        });
        const lines = page.deliveries.map(describe);
        if (lines.length === 0) lines.push('no deliveries match');
        if (page.nextCursor) lines.push(`more: --cursor ${page.nextCursor}`);
        output(options.json, page, lines.join('\n'));
      }, false);
    });

  deliveries
    .command('show <id>')
    .description('one delivery with every attempt (status, latency, the merchant’s answer)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      if (!MESSAGE_ID.test(id)) return refuse(`'${id}' is not a delivery id (msg_ and 32 hex digits)`);
      await withDeliveries(async (service) => {
        const delivery = await service.get(id);
        const attempts = delivery.attemptLog.map(
          (attempt) =>
            `  #${attempt.attempt}  ${attempt.at.toISOString()}  ${attempt.statusCode ?? 'no response'}  ${attempt.latencyMs} ms${attempt.error ? `  ${attempt.error}` : ''}`,
        );
        output(options.json, delivery, [describe(delivery), ...attempts].join('\n'));
      }, false);
    });

  deliveries
    .command('resend <id>')
    .description('deliver a failed (or skipped) message again, with the same webhook-id')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      if (!MESSAGE_ID.test(id)) return refuse(`'${id}' is not a delivery id (msg_ and 32 hex digits)`);
      await withDeliveries(async (service) => {
        const result = await service.resend(id, cliActor());
        output(options.json, result, `resending ${result.messageId} to ${result.endpointId} (${result.workflowId})`);
      });
    });

  return deliveries;
}

/** `hookflow endpoints recover <id> --since 2h`, added to the endpoints command. */
export function recoverCommand(deps: DeliveriesCommandDeps = {}): Command {
  const { withDeliveries, output, refuse } = deliveryCommandRunner('endpoints', deps);
  return new Command('recover')
    .argument('<id>', 'endpoint id (ep_…)')
    .description('resend every message to the endpoint that failed since a time (same webhook-ids)')
    .requiredOption('--since <when>', 'a duration back from now (2h, 30m, 7d) or an ISO date')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { since: string; json?: boolean }) => {
      if (!/^ep_[0-9a-f]{24}$/.test(id)) return refuse(`'${id}' is not an endpoint id (ep_ and 24 hex digits)`);
      await withDeliveries(async (service) => {
        const { parseSince } = await import('../outbound/since');
        const result = await service.recover(id, parseSince(options.since), cliActor());
        output(options.json, result, describeRecover(result));
      });
    });
}

interface ListOptions {
  status?: string;
  endpoint?: string;
  tenant?: string;
  limit: number;
  cursor?: string;
  json?: boolean;
}

function describe(delivery: DeliveryView): string {
  const last =
    delivery.status === 'delivered'
      ? `delivered ${delivery.deliveredAt?.toISOString() ?? ''}`
      : `${delivery.status}${delivery.lastError ? `: ${delivery.lastError}` : ''}`;
  return `${delivery.messageId}  ${delivery.type}  ${delivery.endpointId}  event ${delivery.stripeEventId}  ${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}  ${last}`;
}

function describeRecover(result: RecoverResult): string {
  const lines = [
    `resent ${result.resent.length} message${result.resent.length === 1 ? '' : 's'} to ${result.endpointId} that failed since ${result.since.toISOString()}`,
    ...result.resent.map((id) => `  ${id}`),
    ...result.skipped.map((entry) => `  skipped ${entry.messageId}: ${entry.reason}`),
  ];
  if (result.more) lines.push('more failed messages are left: run the command again');
  return lines.join('\n');
}

function choice(allowed: string[]) {
  return (value: string) => {
    if (!allowed.includes(value)) throw new InvalidArgumentError(`use one of ${allowed.join(', ')}.`);
    return value;
  };
}

function integerIn(min: number, max: number) {
  return (value: string) => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`use a whole number from ${min} to ${max}.`);
    }
    return number;
  };
}
