import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ThinNotificationLike } from './event-summary';
import type { StripeObject } from './sample-events';

/**
 * Thin event notifications (https://docs.stripe.com/event-destinations#thin-payload): an event
 * destination with payload style "thin" sends `{object: "v2.core.event", id, type, created,
 * context?, related_object?}` and no object; the receiver fetches the event and its related object
 * from the API. hookflow stores the notification as received, and an activity turns it into the
 * snapshot event it stands for (`v1.customer.updated` → `customer.updated` with the customer as the
 * API returns it), which then takes the same state and business path as a snapshot delivery.
 */
export const THIN_EVENT_OBJECT = 'v2.core.event';

/** Whether a parsed body is a thin notification (checked before verifying: it picks the SDK parser). */
export function isThinNotification(parsed: unknown): boolean {
  return (
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    (parsed as { object?: unknown }).object === THIN_EVENT_OBJECT
  );
}

/**
 * `related_object.url` is requested by the SDK on the API host: only a plain API path
 * (`/v1/customers/cus_…`), never a query, another host or a `..` segment.
 */
const API_PATH = /^\/v[12](\/[A-Za-z0-9_.-]+)+$/;

/** The parts of a thin notification hookflow relies on; the raw body keeps everything else. */
export const thinNotificationSchema = z.object({
  id: z.string().min(1),
  object: z.literal(THIN_EVENT_OBJECT),
  type: z.string().min(1),
  created: z.iso.datetime({ offset: true }),
  livemode: z.boolean(),
  /** Stripe Connect: the account the event belongs to (the SDK sends it as `Stripe-Context`). */
  context: z.string().min(1).nullable().optional(),
  related_object: z
    .object({
      id: z.string().min(1),
      type: z.string().min(1),
      url: z
        .string()
        .regex(API_PATH)
        .refine((url) => !url.split('/').includes('..')),
    })
    .nullable()
    .optional(),
});

export type VerifiedThinNotification = z.infer<typeof thinNotificationSchema> & ThinNotificationLike;

/**
 * The snapshot event type a thin one stands for: `v1.charge.dispute.created` →
 * `charge.dispute.created`. Null for the v2 namespaces (`v2.core.*`, `v2.money_management.*`),
 * whose objects are not v1 resources: those notifications are stored with outcome `no_object`.
 */
export function snapshotTypeOf(thinType: string): string | null {
  return thinType.startsWith('v1.') && thinType.length > 3 ? thinType.slice(3) : null;
}

/**
 * The snapshot-shaped event an activity builds from a thin notification and what the API returned:
 * the notification's id, `created` (as Unix seconds, the watermark) and `context` (as `account`),
 * the snapshot type, the fetched object as `data.object`. Stored beside the notification
 * (`fetchedBody`), so the business handlers read it exactly as they read a snapshot event.
 */
export function materializeThinEvent(
  notification: ThinNotificationLike,
  snapshotType: string,
  object: Record<string, unknown>,
  fetchedEvent: Record<string, unknown>,
) {
  return {
    id: notification.id,
    object: 'event' as const,
    type: snapshotType,
    created: Math.floor(Date.parse(notification.created) / 1000),
    livemode: notification.livemode,
    api_version: null,
    account: notification.context ?? null,
    data: { object },
    /** Where this came from: the thin type and what the v2 event adds (`reason`, `snapshot_event`, `changes`). */
    thin: {
      type: notification.type,
      related_object: notification.related_object ?? null,
      reason: fetchedEvent.reason ?? null,
      snapshot_event: fetchedEvent.snapshot_event ?? null,
      changes: fetchedEvent.changes ?? null,
    },
  };
}

/**
 * The API path of a v1 object: `customer` → `/v1/customers/cus_…`, `checkout.session` →
 * `/v1/checkout/sessions/cs_…`, `radar.early_fraud_warning` → `/v1/radar/early_fraud_warnings/issfr_…`.
 */
export function relatedObjectPath(objectType: string, id: string): string {
  const segments = objectType.split('.');
  const collection = [...segments.slice(0, -1), `${segments.at(-1)}s`].join('/');
  return `/v1/${collection}/${encodeURIComponent(id)}`;
}

/** A thin notification and the v2 event behind it (what `GET /v2/core/events/:id` returns). */
export interface ThinEventPair {
  notification: VerifiedThinNotification;
  event: Record<string, unknown> & { id: string };
}

/**
 * The thin notification Stripe would send for a snapshot event (`hookflow trigger --thin`, tests):
 * a fresh `evt_test_…` id, `v1.<type>`, `created` from the event, the object as `related_object`,
 * the connected account as `context`.
 */
export function thinEventFor(
  snapshot: { type: string; created: number; livemode: boolean; data: { object: StripeObject } },
  options: { context?: string | null; id?: string } = {},
): ThinEventPair {
  const object = snapshot.data.object;
  const notification: VerifiedThinNotification = {
    id: options.id ?? `evt_test_${randomBytes(12).toString('hex')}`,
    object: THIN_EVENT_OBJECT,
    type: `v1.${snapshot.type}`,
    created: new Date(snapshot.created * 1000).toISOString(),
    livemode: snapshot.livemode,
    ...(options.context ? { context: options.context } : {}),
    related_object: { id: object.id, type: object.object, url: relatedObjectPath(object.object, object.id) },
  };
  return { notification, event: { ...notification, reason: null, changes: {} } };
}
