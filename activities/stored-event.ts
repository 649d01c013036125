import { ApplicationFailure, Context } from '@temporalio/activity';
import type { EventStore } from '../src/stores/event-store';
import type { EventRef } from './types';

/** The parts of a stored Stripe event the business activities read. */
export interface StoredEvent {
  id: string;
  type: string;
  /** Unix seconds: the watermark that orders changes. */
  created: number;
  livemode: boolean;
  /** Stripe Connect: the connected account (event `account`, thin events' `context`), as stored with the event. */
  account: string | null;
  object: StripeFields;
}

export type StripeFields = Record<string, unknown>;

/** The ledger's document of an event and its payload, parsed once. */
export interface ReadEvent {
  doc: NonNullable<Awaited<ReturnType<EventStore['find']>>>;
  /** The verified raw body; for a thin notification, the event its activity fetched (thin-events.ts). */
  payload: {
    id: string;
    type: string;
    created: number;
    livemode: boolean;
    data: { object: StripeFields };
  };
}

/**
 * Reads the event by reference: payloads never travel through workflow history, the verified raw
 * body in the ledger is the one source. A missing event cannot appear by retrying.
 */
export async function readStoredEvent(events: Pick<EventStore, 'find'>, ref: EventRef): Promise<ReadEvent> {
  const doc = await events.find(ref.tenantId, ref.eventId);
  if (!doc) {
    throw ApplicationFailure.nonRetryable(
      `event ${ref.eventId} of tenant ${ref.tenantId} is not stored`,
      'EventNotStored',
    );
  }
  return { doc, payload: JSON.parse(doc.fetchedBody ?? doc.rawBody) as ReadEvent['payload'] };
}

/** The parts the business handlers read. */
export function storedEventOf({ doc, payload }: ReadEvent): StoredEvent {
  return {
    id: payload.id,
    type: payload.type,
    created: payload.created,
    livemode: payload.livemode,
    account: doc.account ?? null,
    object: payload.data.object,
  };
}

export async function loadStoredEvent(events: Pick<EventStore, 'find'>, ref: EventRef): Promise<StoredEvent> {
  return storedEventOf(await readStoredEvent(events, ref));
}

export function stringField(object: StripeFields | undefined, key: string): string | null {
  const value = object?.[key];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

export function numberField(object: StripeFields | undefined, key: string): number | null {
  const value = object?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function objectField(object: StripeFields | undefined, key: string): StripeFields | undefined {
  const value = object?.[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as StripeFields) : undefined;
}

/** An expandable Stripe field is either an id string or the expanded object. */
export function idField(object: StripeFields | undefined, key: string): string | null {
  const value = object?.[key];
  if (typeof value === 'string') return value || null;
  return stringField(objectField(object, key), 'id');
}

/** The first metadata value present among `keys` (Stripe metadata values are strings). */
export function metadataValue(object: StripeFields | undefined, keys: readonly string[]): string | null {
  const metadata = objectField(object, 'metadata');
  for (const key of keys) {
    const value = stringField(metadata, key)?.trim();
    if (value) return value;
  }
  return null;
}

/** Unix seconds → Date, or null. */
export function dateFromSeconds(seconds: number | null): Date | null {
  return seconds === null ? null : new Date(seconds * 1000);
}

/**
 * Temporal's activity logger when running inside an activity; silent when the functions are called
 * directly (tests, scripts), so they never require an activity context.
 */
export function activityLog(message: string, meta: Record<string, unknown>): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.log.info(message, meta);
}
