// Workflow bundle for test/outbound-delivery.test.ts: the real outbound workflows, plus a stand-in for
// the business workflow that calls dispatchOutbound the way processStripeEvent will.
import type { OutboundDispatchInput, OutboundMessageRef } from '../../activities/types';
import { dispatchOutbound } from '../../workflows/outbound-dispatch';

export { deliverWebhook } from '../../workflows/deliver-webhook';
export { sequenceWebhookDeliveries } from '../../workflows/sequence-webhook-deliveries';

export async function dispatchOutboundFromWorkflow(input: OutboundDispatchInput): Promise<OutboundMessageRef[]> {
  return dispatchOutbound(input);
}
