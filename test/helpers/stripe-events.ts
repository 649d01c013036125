// Test events come from the same builders as `hookflow trigger`: Stripe's own example objects.
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
