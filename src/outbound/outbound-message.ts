/**
 * The body every endpoint receives: Standard Webhooks' recommended `{ type, timestamp, data }`.
 * `timestamp` is when the Stripe event happened, so the body is identical on every attempt.
 */
export function outboundBody(type: string, stripeEventCreated: number, data: unknown): string {
  return JSON.stringify({ type, timestamp: new Date(stripeEventCreated * 1000).toISOString(), data });
}
