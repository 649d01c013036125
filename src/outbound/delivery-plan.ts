/**
 * Retry schedule of one outbound message: built from config by the worker, carried by the
 * outbound workflows in their input. Imports nothing, so workflow code can share the type.
 */
export interface DeliveryPlan {
  /** Delays between attempts, after the immediate first one (Standard Webhooks' example: 5 s … 10 h). */
  retryScheduleMs: number[];
  /** Jitter as a fraction of each delay (0.1 = ±10 %), so retries of many messages do not arrive together. */
  jitterRatio: number;
  /** Longest `Retry-After` honoured, so an endpoint cannot park a message for ever. */
  maxRetryAfterMs: number;
}
