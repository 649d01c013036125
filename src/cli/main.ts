#!/usr/bin/env node
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config';
import { createLogger } from '../logger';
import { REPO_ROOT, VERSION } from '../version';
import { debugDetails, describeFailure, type FailureHints } from './cli-errors';
import { closeOnSignals } from './shutdown';
import { backfillCommand } from './backfill-command';
import { catchUpCommand } from './catch-up-command';
import { fakeStripeCommand } from './fake-stripe-command';
import { deliveriesCommand } from './deliveries-command';
import { endpointsCommand } from './endpoints-command';
import { eventsCommand, rerunCommand } from './support-commands';
import { tenantsCommand } from './tenants-command';
import { triggerCommand } from './trigger-command';

// A local .env is a convenience for development; real deployments set the environment.
const dotenv = join(REPO_ROOT, '.env');
if (existsSync(dotenv)) process.loadEnvFile(dotenv);

const program = new Command()
  .name('hookflow')
  .description('Durable processor for Stripe webhooks on Temporal and MongoDB')
  .version(VERSION)
  .option('--debug', 'print the stack trace of a failure (so does LOG_LEVEL=debug)');

/** What a failing command connects to, so its one-line error can say what was tried. */
const hints: FailureHints = {};
function configFromEnv(): Config {
  const config = loadConfig();
  hints.mongoUrl = config.mongoUrl;
  hints.temporalAddress = config.temporal.address;
  return config;
}

/** `hookflow tenants add`: prefixes the one-line error of the command that ran. */
let commandPath = 'hookflow';
program.hook('preAction', (_program, action) => {
  const names: string[] = [];
  for (let command: Command | null = action; command; command = command.parent) names.unshift(command.name());
  commandPath = names.join(' ');
});

program
  .command('serve')
  .description('run the webhook receiver (POST /webhooks/stripe)')
  .action(async () => {
    const config = configFromEnv();
    const log = createLogger(config.logLevel, 'receiver');
    const { startReceiver } = await import('../processes/receiver');
    const receiver = await startReceiver(config, log);
    closeOnSignals(() => receiver.close(), log, config.shutdownGraceSeconds);
  });

program
  .command('worker')
  .description('run the Temporal worker that processes events')
  .action(async () => {
    const config = configFromEnv();
    const log = createLogger(config.logLevel, 'worker');
    const [{ startWorker }, { installTemporalLogging }] = await Promise.all([
      import('../processes/worker'),
      import('../temporal/runtime-logging'),
    ]);
    installTemporalLogging(log, config.logLevel);
    const worker = await startWorker(config, log);
    closeOnSignals(() => worker.close(), log, config.shutdownGraceSeconds);
    await worker.done;
  });

program
  .command('dev')
  .description('run everything locally: Temporal dev server, FerretDB, worker and receiver')
  .action(async () => {
    const log = createLogger(process.env.LOG_LEVEL ?? 'info', 'hookflow');
    const { runDev } = await import('../processes/dev');
    const close = await runDev(process.env, log);
    closeOnSignals(close, log, 30);
  });

program.addCommand(tenantsCommand());
program.addCommand(endpointsCommand());
program.addCommand(deliveriesCommand());
program.addCommand(triggerCommand());
program.addCommand(backfillCommand());
program.addCommand(catchUpCommand());
program.addCommand(fakeStripeCommand());
program.addCommand(eventsCommand());
program.addCommand(rerunCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  // One line saying what is wrong and what to do; the stack only for whoever asks for it.
  process.stderr.write(`${commandPath}: ${describeFailure(error, hints)}\n`);
  const debug =
    program.opts<{ debug?: boolean }>().debug === true || /^(debug|trace)$/.test(process.env.LOG_LEVEL ?? '');
  if (debug) process.stderr.write(`${debugDetails(error)}\n`);
  process.exit(1);
});
