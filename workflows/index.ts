// Everything the worker registers as workflow code. Deterministic code only (see eslint config).
export { processStripeEvent } from './process-stripe-event';
export { deliverWebhook } from './deliver-webhook';
export { sequenceWebhookDeliveries } from './sequence-webhook-deliveries';
export { bulkRerunEvents } from './bulk-rerun';
export { backfillStripe, backfillStripeResource } from './backfill-stripe';
export { catchUpStripeEvents } from './catch-up-stripe-events';
