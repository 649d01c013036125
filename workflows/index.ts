// Everything the worker registers as workflow code. Deterministic code only (see eslint config).
export { processStripeEvent } from './process-stripe-event';
