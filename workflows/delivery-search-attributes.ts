import type { SearchAttributePair } from '@temporalio/common';
import type { OutboundMessageRef } from '../activities/types';
import { HookflowOutcome, StripeObjectId, TenantId } from './search-attributes';

/**
 * Search attributes a `deliverWebhook` run starts with: its tenant, the Stripe object the message is
 * about, and `HookflowOutcome = 'pending'` until the run records how it ended.
 */
export function deliverySearchAttributes(message: OutboundMessageRef): SearchAttributePair[] {
  return [
    { key: TenantId, value: message.tenantId },
    ...(message.objectId ? [{ key: StripeObjectId, value: message.objectId }] : []),
    { key: HookflowOutcome, value: 'pending' },
  ];
}
