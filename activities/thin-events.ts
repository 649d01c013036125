import { ApplicationFailure } from '@temporalio/activity';
import type { EventStore } from '../src/stores/event-store';
import type { ThinNotificationLike } from '../src/stripe/event-summary';
import { deletedStub, isResourceMissing } from '../src/stripe/stripe-api';
import type { StripeClientResolver } from '../src/stripe/stripe-clients';
import { isThinNotification, materializeThinEvent, snapshotTypeOf } from '../src/stripe/thin-events';
import { toApplicationFailure } from '../src/temporal/failure-mapper';
import { activityLog } from './stored-event';
import type { ThinEventActivities, ThinFetchResult } from './thin-event-types';

export interface ThinEventActivityDeps {
  clients: StripeClientResolver;
  events: Pick<EventStore, 'find' | 'recordFetched'>;
}

/**
 * Thin event notifications carry no object (https://docs.stripe.com/event-destinations#thin-payload):
 * this activity fetches it. The notification is re-parsed from the stored raw body, since the SDK's
 * parsed notification (its `fetchEvent` / `fetchRelatedObject` functions, its `StripeContext`) does
 * not survive serialisation into workflow history; it was verified on receipt, so it is parsed
 * without verification here. Both requests go through the tenant's own client (STRIPE_API_BASE,
 * `Stripe-Context` for a connected account), and errors through the one failure mapper: a 5xx or
 * timeout is retried by the activity's retry policy, another 4xx fails the event with Stripe's message.
 *
 * A related object the API no longer has (404 `resource_missing`) is expected for a deletion:
 * Stripe removes most deleted objects (a customer still answers, as `{id, object, deleted: true}`).
 * A `*.deleted` event is then applied with that stub, as the API would have answered, so the state
 * row is marked deleted under the event's watermark like the snapshot twin's. Any other event whose
 * object is missing has nothing to apply: it fails at once (`StripeObjectMissing`), not retried.
 */
export function createThinEventActivities(deps: ThinEventActivityDeps): ThinEventActivities {
  return {
    async fetchThinEvent(ref): Promise<ThinFetchResult> {
      const stored = await deps.events.find(ref.tenantId, ref.eventId);
      if (!stored) {
        throw ApplicationFailure.nonRetryable(
          `event ${ref.eventId} of tenant ${ref.tenantId} is not stored`,
          'EventNotStored',
        );
      }
      const parsed = JSON.parse(stored.rawBody) as ThinNotificationLike;
      const snapshotType = isThinNotification(parsed) ? snapshotTypeOf(parsed.type) : null;
      if (!snapshotType || !parsed.related_object) {
        activityLog('thin event has no v1 related object to fetch', { eventId: ref.eventId, type: parsed.type });
        return { fetched: false, snapshotType: null };
      }
      // A test-mode event is fetched with a test key, a live one with a live key.
      const environment = parsed.livemode ? 'live' : 'sandbox';
      const found = await deps.clients.clientFor(ref.tenantId, environment);
      if (!found) {
        throw ApplicationFailure.nonRetryable(
          `no Stripe API key (${environment}) for tenant ${ref.tenantId}: a thin event's object is fetched from the Stripe API. ` +
            `Set STRIPE_API_KEY (the default tenant) or store a key with \`hookflow tenants rotate-secret ${ref.tenantId} --stripe-api-key-file -\`, ` +
            `then re-run it: \`hookflow rerun ${ref.eventId} --tenant ${ref.tenantId} --reason "Stripe API key set"\``,
          'StripeApiKeyMissing',
        );
      }
      // Typed as the SDK's notification of a type it may not know: any v1 type is fetched alike.
      const notification = found.client.parseEventNotificationWithoutVerification(
        stored.rawBody,
      ) as unknown as FetchableNotification;
      const event = await request(`fetching thin event ${ref.eventId}`, () => notification.fetchEvent());
      const related = parsed.related_object;
      const object = await request(`fetching ${related.url} of thin event ${ref.eventId}`, async () => {
        try {
          return await notification.fetchRelatedObject();
        } catch (error) {
          if (!isResourceMissing(error)) throw error;
          if (snapshotType.endsWith('.deleted')) {
            activityLog('thin event: deleted object is gone from the API, applied as deleted', {
              eventId: ref.eventId,
              objectId: related.id,
            });
            return deletedStub(related.id, related.type);
          }
          throw ApplicationFailure.nonRetryable(
            `${related.type} ${related.id} is not in the Stripe API (404 resource_missing at ${related.url}); ` +
              `thin event ${ref.eventId} (${parsed.type}) has no object to apply. It was deleted since, or the ` +
              `tenant's ${environment} key belongs to another account; re-run with \`hookflow rerun ${ref.eventId} ` +
              `--tenant ${ref.tenantId}\` once the object can be read`,
            'StripeObjectMissing',
          );
        }
      });
      if (object === null || typeof object !== 'object') {
        throw ApplicationFailure.nonRetryable(
          `the Stripe API returned no object at ${parsed.related_object.url} for thin event ${ref.eventId}`,
          'StripeRelatedObjectMissing',
        );
      }
      const materialized = materializeThinEvent(parsed, snapshotType, withoutResponse(object), withoutResponse(event));
      await deps.events.recordFetched(ref.tenantId, ref.eventId, JSON.stringify(materialized));
      activityLog('thin event fetched', { eventId: ref.eventId, snapshotType, objectId: parsed.related_object.id });
      return { fetched: true, snapshotType };
    },
  };
}

interface FetchableNotification {
  fetchEvent(): Promise<unknown>;
  fetchRelatedObject(): Promise<unknown>;
}

async function request<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toApplicationFailure(error, { service: 'Stripe', action });
  }
}

/** The SDK adds `lastResponse` (headers, request id) to every result: not part of the object. */
function withoutResponse(value: unknown): Record<string, unknown> {
  const fields = { ...(value as Record<string, unknown>) };
  delete fields.lastResponse;
  return fields;
}
