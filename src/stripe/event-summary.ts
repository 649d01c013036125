/**
 * Facts about an event that routing, search attributes and the ledger need. Pure, so the receiver
 * and the activities derive them the same way.
 */
export interface EventSummary {
  eventId: string;
  type: string;
  /** First segment of the type: `customer.subscription.updated` → `customer` (the state table). */
  resource: string;
  objectId: string | null;
  objectType: string | null;
  customerId: string | null;
  livemode: boolean;
  apiVersion: string | null;
  created: number;
  /** Stripe Connect: the connected account the event belongs to, null for the platform's own. */
  account?: string | null;
}

interface EventLike {
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  api_version?: string | null;
  account?: string | null;
  data: { object: Record<string, unknown> };
}

export function summarizeEvent(event: EventLike): EventSummary {
  const object = event.data.object;
  const objectId = typeof object.id === 'string' ? object.id : null;
  const objectType = typeof object.object === 'string' ? object.object : null;
  return {
    eventId: event.id,
    type: event.type,
    resource: resourceOf(event.type),
    objectId,
    objectType,
    customerId: objectType === 'customer' ? objectId : idOf(object.customer),
    livemode: event.livemode,
    apiVersion: event.api_version ?? null,
    created: event.created,
    account: typeof event.account === 'string' && event.account ? event.account : null,
  };
}

export function resourceOf(eventType: string): string {
  return eventType.split('.')[0]!;
}

/** An expandable Stripe field is either an id string or the expanded object. */
function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return null;
}
