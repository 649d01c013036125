import { createHash } from 'node:crypto';

/**
 * The Standard Webhooks `webhook-id` of a message: derived, not random, from (Stripe event, outbound
 * type, endpoint), so Temporal retries, workflow re-runs and replays of the same Stripe event all
 * send the same id and the merchant can deduplicate on it.
 */
export function outboundMessageId(stripeEventId: string, type: string, endpointId: string): string {
  const digest = createHash('sha256').update(`${stripeEventId}\n${type}\n${endpointId}`).digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}

/**
 * The body every endpoint receives: Standard Webhooks' recommended `{ type, timestamp, data }`.
 * `timestamp` is when the Stripe event happened, so the body is identical on every attempt.
 */
export function outboundBody(type: string, stripeEventCreated: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(stripeEventCreated * 1000).toISOString(), data });
}
