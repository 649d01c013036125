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
  /**
   * A thin event notification (`object: "v2.core.event"`): it carries no object, which an
   * activity fetches from the Stripe API before the event is applied (see thin-events.ts).
   */
  thin?: boolean;
}

interface EventLike {
  id: string;
  object?: string;
  type: string;
  created: number;
  livemode: boolean;
  api_version?: string | null;
  account?: string | null;
  data: { object: Record<string, unknown> };
}

/** The parts of a thin event notification the summary reads (thin-events.ts checks its shape). */
export interface ThinNotificationLike {
  id: string;
  object: 'v2.core.event';
  type: string;
  /** ISO 8601, unlike a snapshot event's Unix seconds. */
  created: string;
  livemode: boolean;
  context?: string | null;
  related_object?: { id: string; type: string; url: string } | null;
}

export function summarizeEvent(event: ThinNotificationLike): EventSummary;
export function summarizeEvent(event: EventLike | ThinNotificationLike): EventSummary;
export function summarizeEvent(event: EventLike): EventSummary;
export function summarizeEvent(event: EventLike | ThinNotificationLike): EventSummary {
  if (event.object === 'v2.core.event') return summarizeThinNotification(event as ThinNotificationLike);
  return summarizeSnapshotEvent(event as EventLike);
}

function summarizeSnapshotEvent(event: EventLike): EventSummary {
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

/**
 * A thin notification is summarised like the snapshot event it stands for: `v1.customer.updated`
 * routes to the `customer` state table, its object is `related_object`, its account `context`
 * (Stripe Connect), and `created` (ISO 8601) becomes Unix seconds, the watermark's unit.
 */
function summarizeThinNotification(notification: ThinNotificationLike): EventSummary {
  const related = notification.related_object ?? null;
  const objectType = related?.type ?? null;
  const objectId = related?.id ?? null;
  return {
    eventId: notification.id,
    type: notification.type,
    resource: resourceOf(notification.type.replace(/^v1\./, '')),
    objectId,
    objectType,
    customerId: objectType === 'customer' ? objectId : null,
    livemode: notification.livemode,
    apiVersion: null,
    created: Math.floor(Date.parse(notification.created) / 1000),
    account: typeof notification.context === 'string' && notification.context ? notification.context : null,
    thin: true,
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
