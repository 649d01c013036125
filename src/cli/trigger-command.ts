import { Command } from 'commander';
import { loadConfig } from '../config';
import { readDevWebhookSecret } from '../processes/dev';
import { deliverEvent, resourceForEventType, stripeEvent, stripeObject } from '../stripe/sample-events';

/**
 * `hookflow trigger <type>`: the `stripe trigger` experience without a Stripe account — builds the
 * event from Stripe's example objects, signs it with the configured secret and posts it.
 */
export function triggerCommand(): Command {
  return new Command('trigger')
    .description('send a realistically signed Stripe test event to a receiver (offline)')
    .argument('<event-type>', 'Stripe event type, e.g. customer.created, invoice.paid, charge.dispute.created')
    .option('--url <url>', 'receiver webhook URL (default http://127.0.0.1:$PORT/webhooks/stripe)')
    .option(
      '--secret <whsec>',
      'signing secret (default: first of STRIPE_WEBHOOK_SECRET, else the one `npm run dev` generated)',
    )
    .option('--object <json>', 'JSON merged over the example object, e.g. \'{"id":"cus_123","metadata":{"a":"b"}}\'')
    .option('--json', 'print the receiver response as JSON only')
    .action(async (type: string, options: { url?: string; secret?: string; object?: string; json?: boolean }) => {
      const config = loadConfig();
      const secret = options.secret ?? config.stripe.webhookSecrets[0] ?? readDevWebhookSecret();
      if (!secret) throw new Error('no signing secret: pass --secret or set STRIPE_WEBHOOK_SECRET');
      const url = options.url ?? `http://127.0.0.1:${config.http.port}/webhooks/stripe`;
      const overrides = options.object ? (JSON.parse(options.object) as Record<string, unknown>) : {};
      const event = stripeEvent(type, stripeObject(resourceForEventType(type), overrides));
      const response = await deliverEvent(url, event, secret);
      if (options.json) {
        process.stdout.write(JSON.stringify(response.body) + '\n');
      } else {
        process.stdout.write(`${type} ${event.id} → ${response.status} ${JSON.stringify(response.body)}\n`);
      }
      if (response.status >= 300) process.exitCode = 1;
    });
}
