/* eslint-disable @typescript-eslint/no-require-imports -- loads the build under test by path */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * Per-event cost probe: database round trips (by command and collection) and Temporal history
 * events for one event of each type, through the real receiver and worker on a private embedded
 * stack. Run against any build of hookflow (`node dist/bench/cost-probe.js [repo root]`), so a
 * change can be compared with the commit before it. Writes JSON to stdout.
 *
 * Round trips are counted with the MongoDB driver's command monitoring, switched on for every
 * client the build under test creates (both processes run in this one process here).
 */
const root = resolve(process.argv[2] ?? join(__dirname, '..', '..'));
const load = (path: string) => require(join(root, 'dist', path));

type CommandLog = Array<{ name: string; collection: string }>;
const commands: CommandLog = [];

function monitorEveryClient(): void {
  const { MongoClient } = require(join(root, 'node_modules', 'mongodb'));
  const connect = MongoClient.prototype.connect;
  MongoClient.prototype.connect = function (
    this: { monitorCommands: boolean; on(name: string, listener: (event: never) => void): void },
    ...args: unknown[]
  ) {
    this.monitorCommands = true;
    this.on('commandStarted', (event: { commandName: string; command: Record<string, unknown> }) => {
      if (['ping', 'hello', 'isMaster', 'createIndexes', 'listIndexes', 'endSessions'].includes(event.commandName))
        return;
      commands.push({ name: event.commandName, collection: String(event.command[event.commandName]) });
    });
    return connect.apply(this, args);
  };
}

async function main(): Promise<void> {
  monitorEveryClient();
  const { startLocalStack } = load('src/stack/local-stack');
  const { freePort } = load('src/stack/ports');
  const { loadConfig } = load('src/config');
  const { createLogger } = load('src/logger');
  const { startReceiver } = load('src/processes/receiver');
  const { startWorker } = load('src/processes/worker');
  const { connectTemporal } = load('src/temporal/client');
  const samples = load('src/stripe/sample-events');
  const { Runtime, DefaultLogger } = require(join(root, 'node_modules', '@temporalio', 'worker'));
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  const dataDir = mkdtempSync(join(tmpdir(), 'hookflow-cost-'));
  const stack = await startLocalStack({
    dataDir,
    temporalPort: await freePort(),
    temporalUiPort: null,
    mongoPort: await freePort(),
  });
  const secret = 'whsec_cost_probe_0123456789abcdef';
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    MONGO_URL: stack.mongoUrl('hookflow_cost'),
    TEMPORAL_ADDRESS: stack.temporalAddress,
    STRIPE_WEBHOOK_SECRET: secret,
  });
  const log = createLogger('silent');
  const worker = await startWorker(config, log);
  const receiver = await startReceiver(config, log);
  const temporal = await connectTemporal(config.temporal);
  const report: Record<string, unknown> = {};
  try {
    const types: Array<[string, string, string]> = [
      ['customer.updated', 'customer', 'cus'],
      ['invoice.paid', 'invoice', 'in'],
      ['charge.succeeded', 'charge', 'ch'],
      ['charge.dispute.created', 'dispute', 'dp'],
    ];
    // One warm-up event, so connection set-up and index builds are not counted.
    await sendAndWait(samples, receiver.url, secret, temporal, 'customer.created', 'customer', 'cus');
    for (const [type, object, prefix] of types) {
      commands.length = 0;
      const history = await sendAndWait(samples, receiver.url, secret, temporal, type, object, prefix);
      // The receiver's inbox release runs after the start: give it a moment to be counted.
      await new Promise((done) => setTimeout(done, 300));
      const byCommand: Record<string, number> = {};
      for (const command of commands) {
        const key = `${command.name} ${command.collection}`;
        byCommand[key] = (byCommand[key] ?? 0) + 1;
      }
      report[type] = { databaseRoundTrips: commands.length, byCommand, temporalHistoryEvents: history };
    }
  } finally {
    await receiver.close();
    await worker.close();
    await temporal.close();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify({ root, events: report }, null, 2)}\n`);
}

async function sendAndWait(
  samples: Record<string, (...args: any[]) => any>, // eslint-disable-line @typescript-eslint/no-explicit-any -- the build under test, loaded by path
  url: string,
  secret: string,
  temporal: {
    client: {
      workflow: {
        getHandle(id: string): { result(): Promise<unknown>; fetchHistory(): Promise<{ events?: unknown[] }> };
      };
    };
  },
  type: string,
  object: string,
  prefix: string,
): Promise<number> {
  const event = samples.stripeEvent(type, samples.stripeObject(object, { id: samples.uniqueId(prefix) }));
  const response = await samples.deliverEvent(`${url}/webhooks/stripe`, event, secret);
  if (response.status !== 200) throw new Error(`delivery answered ${response.status}`);
  const handle = temporal.client.workflow.getHandle(`stripe-event:default:${event.id}`);
  for (let attempt = 0; ; attempt++) {
    try {
      await handle.result();
      break;
    } catch (error) {
      if (attempt > 200) throw error;
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  return ((await handle.fetchHistory()).events ?? []).length;
}

main().catch((error: unknown) => {
  process.stderr.write(`cost probe failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
