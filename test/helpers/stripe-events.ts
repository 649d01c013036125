// Test events come from the same builders as `hookflow trigger`: Stripe's own example objects.
import { stripeEvent, stripeObject, uniqueId } from '../../src/stripe/sample-events';

export {
  deliver,
  deliverEvent,
  signatureHeader,
  stripeEvent,
  stripeObject,
  uniqueId,
  type Delivery,
  type StripeEventPayload,
  type StripeObject,
} from '../../src/stripe/sample-events';

/**
 * `checkout.session.completed` for a paid subscription bought by a Clerk organization (the Clerk
 * handler's input), from Stripe's example Checkout Session with fresh customer and subscription
 * ids; `session` overrides fields of the session, `envelope` the event's (e.g. `created`).
 */
export function subscriptionCheckout(
  organizationId: string,
  session: Record<string, unknown> = {},
  envelope: Parameters<typeof stripeEvent>[2] = {},
) {
  return stripeEvent(
    'checkout.session.completed',
    stripeObject('checkout.session', {
      id: uniqueId('cs_test'),
      mode: 'subscription',
      payment_status: 'paid',
      client_reference_id: organizationId,
      customer: uniqueId('cus'),
      subscription: uniqueId('sub'),
      metadata: {},
      ...session,
    }),
    envelope,
  );
}
