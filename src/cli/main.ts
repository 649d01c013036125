#!/usr/bin/env node
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { runDev } from '../processes/dev';
import { startReceiver } from '../processes/receiver';
import { startWorker } from '../processes/worker';
import { installTemporalLogging } from '../temporal/runtime-logging';
import { REPO_ROOT, VERSION } from '../version';
import { closeOnSignals } from './shutdown';
import { endpointsCommand } from './endpoints-command';
import { tenantsCommand } from './tenants-command';
import { triggerCommand } from './trigger-command';

// A local .env is a convenience for development; real deployments set the environment.
const dotenv = join(REPO_ROOT, '.env');
if (existsSync(dotenv)) process.loadEnvFile(dotenv);

const program = new Command()
  .name('hookflow')
  .description('Durable processor for Stripe webhooks on Temporal and MongoDB')
  .version(VERSION);

program
  .command('serve')
  .description('run the webhook receiver (POST /webhooks/stripe)')
  .action(async () => {
    const config = loadConfig();
    const log = createLogger(config.logLevel, 'receiver');
    const receiver = await startReceiver(config, log);
    closeOnSignals(() => receiver.close(), log, config.shutdownGraceSeconds);
  });

program
  .command('worker')
  .description('run the Temporal worker that processes events')
  .action(async () => {
    const config = loadConfig();
    const log = createLogger(config.logLevel, 'worker');
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
    installTemporalLogging(log, 'warn');
    const close = await runDev(process.env, log);
    closeOnSignals(close, log, 30);
  });

program.addCommand(tenantsCommand());
program.addCommand(endpointsCommand());
program.addCommand(triggerCommand());

program.parseAsync(process.argv).catch((error: unknown) => {
  // Configuration mistakes are the user's to fix: say what is wrong, without a stack trace.
  process.stderr.write(
    `hookflow: ${error instanceof ConfigError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
