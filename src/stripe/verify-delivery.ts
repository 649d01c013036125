import Stripe from 'stripe';
import { z } from 'zod';
import { AppError } from '../errors';
import { checkJsonShape } from './event-limits';
import { isThinNotification, thinNotificationSchema, type VerifiedThinNotification } from './thin-events';

/** The parts of an Event envelope hookflow relies on; everything else is kept verbatim in the raw body. */
const eventEnvelope = z.object({
  id: z.string().min(1),
  object: z.literal('event'),
  type: z.string().min(1),
  created: z.number().int(),
  livemode: z.boolean(),
  api_version: z.string().nullable().optional(),
  /** Stripe Connect: the connected account the event belongs to. */
  account: z.string().nullable().optional(),
  data: z.object({
    object: jsonObject(),
    previous_attributes: jsonObject().optional(),
  }),
});

/**
 * A JSON object, checked but not copied: `z.record` rebuilds the object key by key, and these are
 * the event's whole payload (a third of the receiver's verification time went to that copy).
 */
function jsonObject() {
  return z.custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    { message: 'Expected an object' },
  );
}

export type VerifiedEvent = z.infer<typeof eventEnvelope>;

// Messages the pinned `stripe` SDK gives its StripeSignatureVerificationError (src/Webhooks.ts).
const MALFORMED_HEADER = [
  'Unable to extract timestamp and signatures from header',
  'No signatures found with expected scheme',
];
const STALE = 'Timestamp outside the tolerance zone';

/**
 * Verifies a delivery with the official SDK against every active secret (rotation: Stripe signs
 * with each, and any one matching is enough), then checks the JSON is an Event — or, for a thin
 * event notification (`object: "v2.core.event"`, detected before verifying), a notification.
 * Throws AppError(400, …) with a code that tells the sender exactly what was wrong.
 */
export function verifyStripeDelivery(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secrets: readonly string[],
  toleranceSeconds: number,
): VerifiedDelivery {
  if (!signatureHeader) {
    throw new AppError(400, 'missing_signature', 'The Stripe-Signature header is missing.');
  }
  checkSignatureHeaderShape(signatureHeader);
  if (secrets.length === 0) {
    throw new AppError(401, 'no_signing_secret', 'No signing secret is configured for this tenant.');
  }
  const body = decodeBody(rawBody);
  // A substring test first: a snapshot event (the hot path) is not parsed one extra time.
  if (body.includes('v2.core.event') && isThinNotification(parseOrNull(body))) {
    return verifyThinNotification(body, signatureHeader, secrets, toleranceSeconds);
  }
  let parsed: unknown;
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      // The SDK signs and parses the decoded text (its TextDecoder drops a BOM): hand it exactly that.
      parsed = Stripe.webhooks.constructEvent(body, signatureHeader, secret, toleranceSeconds);
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      // These are only reached once a signature matched this secret: no other secret can do better.
      if (error instanceof SyntaxError || (error instanceof Error && error.message.startsWith(STALE))) break;
    }
  }
  if (lastError !== undefined) throw toVerificationError(lastError);

  const event = eventEnvelope.safeParse(parsed);
  if (!event.success) {
    const where = event.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new AppError(400, 'not_an_event', `The body is signed JSON but not a Stripe event (check: ${where}).`);
  }
  checkJsonShape(parsed, body);
  return { kind: 'event', event: event.data, body };
}

/**
 * A verified delivery and the text it was verified and parsed from (what is stored): a snapshot
 * event, or a thin notification whose object an activity fetches later.
 */
export type VerifiedDelivery =
  | { kind: 'event'; event: VerifiedEvent; body: string }
  | { kind: 'thin'; notification: VerifiedThinNotification; body: string };

/**
 * Thin notifications are verified with the SDK's own parser for them, `parseEventNotification`
 * (`constructEvent` refuses them after the signature check), against the same secrets. The parser
 * needs a client instance but never calls the API; the key it is built with is never used.
 */
function verifyThinNotification(
  body: string,
  signatureHeader: string,
  secrets: readonly string[],
  toleranceSeconds: number,
): VerifiedDelivery {
  const parser = thinParser();
  let lastError: unknown;
  for (const secret of secrets) {
    try {
      parser.parseEventNotification(body, signatureHeader, secret, toleranceSeconds);
      lastError = undefined;
      break;
    } catch (error) {
      lastError = error;
      if (error instanceof Error && error.message.startsWith(STALE)) break;
    }
  }
  if (lastError !== undefined) throw toVerificationError(lastError);
  const parsed = JSON.parse(body) as unknown;
  const notification = thinNotificationSchema.safeParse(parsed);
  if (!notification.success) {
    const where = notification.error.issues.map((issue) => issue.path.join('.') || '(root)').join(', ');
    throw new AppError(
      400,
      'not_an_event',
      `The body is signed JSON but not a Stripe thin event notification (check: ${where}).`,
    );
  }
  checkJsonShape(parsed, body);
  return { kind: 'thin', notification: notification.data as VerifiedThinNotification, body };
}

let parserClient: Stripe | undefined;

function thinParser(): Stripe {
  parserClient ??= new Stripe('sk_test_hookflow_parser_only', { telemetry: false, maxNetworkRetries: 0 });
  return parserClient;
}

function parseOrNull(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return null;
  }
}

// `t=<unix seconds>` once, and at least one `v1=<hex>` (other schemes such as v0 may sit beside it).
const HEADER_ITEM = /^([a-z0-9]+)=(.*)$/;

/**
 * The SDK reads `t` with parseInt and never checks it: `t=NaN` or `t=abc` would pass a matching HMAC
 * and switch the replay window off (NaN compares false). So the header's shape is checked first, as
 * Stripe documents it: https://docs.stripe.com/webhooks#verify-manually.
 */
function checkSignatureHeaderShape(header: string): void {
  let timestamps = 0;
  let validTimestamp = false;
  let v1 = 0;
  for (const item of header.split(',')) {
    const match = HEADER_ITEM.exec(item.trim());
    if (!match) continue;
    const [, key, value] = match;
    if (key === 't') {
      timestamps++;
      validTimestamp = /^\d{1,12}$/.test(value!);
    } else if (key === 'v1' && /^[0-9a-fA-F]{1,128}$/.test(value!)) {
      v1++;
    }
  }
  if (timestamps !== 1 || !validTimestamp || v1 === 0) {
    throw new AppError(
      400,
      'malformed_signature_header',
      'The Stripe-Signature header must look like t=<unix seconds>,v1=<hex>.',
    );
  }
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Stripe sends UTF-8 JSON. Invalid bytes are refused (decoding would replace them, and the stored
 * text would not be what was sent); a leading BOM is dropped, as the SDK's own decoder drops it, so
 * the stored body is exactly the text that was verified and parsed.
 */
// Stateless between calls (no `stream: true`), so one instance serves every delivery.
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeBody(rawBody: Buffer): string {
  const bytes = rawBody.subarray(0, 3).equals(UTF8_BOM) ? rawBody.subarray(3) : rawBody;
  try {
    return UTF8_DECODER.decode(bytes);
  } catch {
    throw new AppError(400, 'invalid_utf8', 'The body is not valid UTF-8.');
  }
}

function toVerificationError(error: unknown): AppError {
  if (error instanceof SyntaxError) {
    return new AppError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  const message = error instanceof Error ? error.message : String(error);
  if (MALFORMED_HEADER.some((text) => message.startsWith(text))) {
    return new AppError(
      400,
      'malformed_signature_header',
      'The Stripe-Signature header must look like t=<unix>,v1=<hex>.',
    );
  }
  if (message.startsWith(STALE)) {
    return new AppError(
      400,
      'stale_signature',
      'The signature timestamp is outside the tolerance window; is the clock right?',
    );
  }
  return new AppError(
    400,
    'invalid_signature',
    "No signature in Stripe-Signature matches this endpoint's signing secret.",
  );
}
