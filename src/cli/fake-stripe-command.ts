import { Command, InvalidArgumentError } from 'commander';
import { FakeStripe } from '../fake-stripe/fake-stripe';
import { SNAPSHOT_RESOURCE_NAMES, parseSnapshotResources, UnknownResourceError } from '../stripe/snapshot-resources';
import { CliError } from './cli-errors';

interface FakeStripeOptions {
  port: number;
  objects: number;
  resources: string[];
  latencyMs: number;
  rateLimitEvery: number;
  requireAccount?: string;
}

/**
 * `hookflow fake-stripe`: a local fake Stripe API for trying backfills, catch-up and thin events
 * without a Stripe account (the same fake the tests use). Loopback only.
 */
export function fakeStripeCommand(): Command {
  return new Command('fake-stripe')
    .description(
      'run a local fake Stripe API (list/retrieve of the snapshottable resources, events, thin events) for offline use',
    )
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', wholeNumber, 12_211)
    .option('--objects <n>', 'example objects served per resource', wholeNumber, 25)
    .option('--resources <names...>', `resources to serve (${SNAPSHOT_RESOURCE_NAMES.join(', ')}, or all)`, ['all'])
    .option('--latency-ms <ms>', 'delay added to every request', wholeNumber, 0)
    .option('--rate-limit-every <n>', 'answer every nth request with 429 (0 = never)', wholeNumber, 0)
    .option('--require-account <acct>', 'refuse requests whose Stripe-Account header is not this connected account')
    .action(async (options: FakeStripeOptions) => {
      let resources;
      try {
        resources = parseSnapshotResources(options.resources);
      } catch (error) {
        if (error instanceof UnknownResourceError) throw new CliError(error.message);
        throw error;
      }
      const fake = new FakeStripe({
        latencyMs: options.latencyMs,
        rateLimitEvery: options.rateLimitEvery,
        requireAccount: options.requireAccount ?? null,
      });
      for (const resource of resources)
        fake.seed(resource, options.objects, { account: options.requireAccount ?? null });
      const url = await fake.listen(options.port);
      process.stdout.write(
        `fake Stripe API on ${url}: ${options.objects} objects each of ${resources.join(', ')}\n` +
          `  use it with: STRIPE_API_BASE=${url} STRIPE_API_KEY=sk_test_fake_0123456789 (any sk_test_… key)\n` +
          `  thin events: STRIPE_API_BASE=${url} npx hookflow trigger --thin customer.updated (registers the event and its object here)\n`,
      );
      const stop = () => {
        void fake.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be a whole number');
  return parsed;
}
