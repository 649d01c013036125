import { Command } from 'commander';
import { loadConfig } from '../config';
import { readDevWebhookSecret } from '../processes/dev';
import { REGISTER_THIN_EVENT_PATH } from '../fake-stripe/fake-stripe';
import {
  deliver,
  deliverEvent,
  exampleObject,
  findResourceForEventType,
  stripeEvent,
  SUGGESTED_EVENT_TYPES,
  type Delivery,
  signatureHeader,
  type StripeEventPayload,
} from '../stripe/sample-events';
import { snapshotTypeOf, thinEventFor, type ThinEventPair } from '../stripe/thin-events';
import { CliError, errorCode } from './cli-errors';

interface TriggerOptions {
  url?: string;
  secret?: string;
  object?: string;
  count: number;
  set: string[];
  json?: boolean;
  thin?: boolean;
  stripeApiBase?: string;
  context?: string;
}

/** Where `hookflow fake-stripe` listens unless told otherwise. */
const FAKE_STRIPE_DEFAULT = 'http://127.0.0.1:12211';

/**
 * `hookflow trigger <type>`: the `stripe trigger` experience without a Stripe account — builds the
 * event from Stripe's example objects (dated now, fresh ids), signs it with the configured secret
 * and posts it.
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
    .option(
      '--set <path=value>',
      'set a field of the event (repeatable), e.g. data.object.metadata.plan=pro; JSON values are parsed',
      collect,
      [],
    )
    .option('--count <n>', 'send n events, each with fresh ids', positiveCount, 1)
    .option('--json', 'print the receiver response as JSON only')
    .option(
      '--thin',
      'send a thin event notification (v1.<type>) instead; its event and object are registered with `hookflow fake-stripe`',
    )
    .option(
      '--stripe-api-base <url>',
      `with --thin: the running \`hookflow fake-stripe\` (default STRIPE_API_BASE when it is not api.stripe.com, else ${FAKE_STRIPE_DEFAULT})`,
    )
    .option('--context <acct>', "with --thin: the connected account the event belongs to (the notification's context)")
    .action(async (requested: string, options: TriggerOptions) => {
      // A thin type names its snapshot twin: v1.customer.updated is built as customer.updated.
      const type = options.thin ? (snapshotTypeOf(requested) ?? requested) : requested;
      const resource = findResourceForEventType(type);
      if (!resource) {
        throw new CliError(
          `no Stripe example object for event type '${type}'. Known types: ${SUGGESTED_EVENT_TYPES.join(', ')} (or any <resource>.<action> of a Stripe object, e.g. product.created).`,
        );
      }
      const config = loadConfig();
      const secret = options.secret ?? config.stripe.webhookSecrets[0] ?? readDevWebhookSecret();
      if (!secret) {
        throw new CliError(
          'no signing secret: run `npm run dev` once (it generates one), set STRIPE_WEBHOOK_SECRET, or pass --secret whsec_….',
        );
      }
      const url = options.url ?? `http://127.0.0.1:${config.http.port}/webhooks/stripe`;
      if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
        throw new CliError(`--url '${url}' is not an http(s) URL, e.g. http://127.0.0.1:4242/webhooks/stripe.`);
      }
      const overrides = parseObject(options.object);
      const assignments = options.set.map(parseAssignment);
      const fakeStripe = options.thin ? fakeStripeBase(options.stripeApiBase, config.stripeApi.base) : null;
      for (let sent = 0; sent < options.count; sent++) {
        const event = stripeEvent(type, exampleObject(resource, overrides));
        for (const [path, value] of assignments) setPath(event as unknown as Record<string, unknown>, path, value);
        if (fakeStripe) {
          const thin = thinEventFor(event, { context: options.context ?? null });
          await registerWithFake(fakeStripe, thin, event.data.object);
          const response = await postThin(url, thin, secret);
          process.stdout.write(
            options.json
              ? JSON.stringify(response.body) + '\n'
              : `${thin.notification.type} ${thin.notification.id} → ${response.status} ${JSON.stringify(response.body)}\n`,
          );
          if (response.status >= 300) process.exitCode = 1;
          continue;
        }
        const response = await post(url, event, secret);
        if (options.json) {
          process.stdout.write(JSON.stringify(response.body) + '\n');
        } else {
          process.stdout.write(`${type} ${event.id} → ${response.status} ${JSON.stringify(response.body)}\n`);
        }
        if (response.status >= 300) process.exitCode = 1;
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new CliError(`--count '${value}' must be a whole number from 1 to 10000.`);
  }
  return count;
}

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** `data.object.metadata.plan=pro` → path and value (JSON if it parses: numbers, booleans, null, objects). */
function parseAssignment(assignment: string): [string[], unknown] {
  const equals = assignment.indexOf('=');
  const path = equals > 0 ? assignment.slice(0, equals).split('.') : [];
  if (path.length === 0 || path.some((part) => part === '' || UNSAFE_KEYS.has(part))) {
    throw new CliError(`--set '${assignment}' must look like data.object.metadata.plan=pro.`);
  }
  const raw = assignment.slice(equals + 1);
  try {
    return [path, JSON.parse(raw)];
  } catch {
    return [path, raw];
  }
}

/** Sets a dotted path on the event, creating objects on the way; the signature covers the result. */
function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
}

function parseObject(json: string | undefined): Record<string, unknown> {
  if (json === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new CliError(
      `--object is not JSON (${(error as Error).message}): pass an object, e.g. --object '{"id":"cus_123"}'.`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CliError(`--object must be a JSON object, e.g. --object '{"id":"cus_123"}'.`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * The fake Stripe API a thin notification's event and object are registered with: --stripe-api-base,
 * else STRIPE_API_BASE (what the worker fetches from) unless it is the real API, else the fake's default.
 */
function fakeStripeBase(option: string | undefined, configured: string): string {
  const base = option ?? (new URL(configured).hostname === 'api.stripe.com' ? FAKE_STRIPE_DEFAULT : configured);
  if (!URL.canParse(base) || !/^https?:$/.test(new URL(base).protocol)) {
    throw new CliError(`--stripe-api-base '${base}' is not an http(s) URL, e.g. ${FAKE_STRIPE_DEFAULT}.`);
  }
  return base.replace(/\/+$/, '');
}

/**
 * Thin notifications carry no object: the worker fetches it from the Stripe API. So the fake the
 * worker fetches from is told first (over loopback) what to serve for this event.
 */
async function registerWithFake(base: string, thin: ThinEventPair, object: StripeEventPayload['data']['object']) {
  const target = `${base}${REGISTER_THIN_EVENT_PATH}`;
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: thin.event, object }),
    });
  } catch (error) {
    const reason = errorCode(error) ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(
      `no fake Stripe API answered (${reason}): start \`npx hookflow fake-stripe\` in another terminal, or pass --stripe-api-base; tried ${base}`,
    );
  }
  if (!response.ok) {
    throw new CliError(
      `${base} refused the thin event (${response.status}): is it \`hookflow fake-stripe\`? --thin needs the fake to serve the event's object.`,
    );
  }
}

async function postThin(url: string, thin: ThinEventPair, secret: string): Promise<Delivery> {
  const body = JSON.stringify(thin.notification, null, 2);
  try {
    return await deliver(url, body, { 'stripe-signature': signatureHeader(body, secret) });
  } catch (error) {
    const reason = errorCode(error) ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`no receiver answered (${reason}): is \`npm run dev\` running? tried ${url}`);
  }
}

async function post(url: string, event: StripeEventPayload, secret: string): Promise<Delivery> {
  try {
    return await deliverEvent(url, event, secret);
  } catch (error) {
    // fetch rejects only when no HTTP answer came back (refused, unknown host, reset, bad URL).
    const reason = errorCode(error) ?? (error instanceof Error ? error.message : String(error));
    throw new CliError(`no receiver answered (${reason}): is \`npm run dev\` running? tried ${url}`);
  }
}
