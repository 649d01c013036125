import mongoose from 'mongoose';
import { BENCH_SECRET, EventGenerator, TENANT } from './events';
import {
  bindBusinessModels,
  bindModels,
  businessKey,
  eventKey,
  objectChildKey,
  objectStateKey,
  summarizeEvent,
} from './hookflow';

/**
 * Fills the store the way months of processed traffic would, directly through the database (not
 * through Temporal): `count` processed events — the raw body is a real signed event as the
 * receiver stores it, with the same lifted fields — each with its object_state row, the fan-out
 * children of invoices, charges and subscriptions, and the business records its handler keeps
 * (dispute and fraud cases, payment sessions). Every key is random (fresh Stripe-style ids), as in
 * production. Written with the project's mongoose schemas (validated), insertMany in batches of
 * 1,000 events.
 */

/** Nested lists fanned out into object_children (same table as the worker's object-state store). */
const FAN_OUT_LISTS: Readonly<Record<string, string>> = { invoice: 'lines', charge: 'refunds', subscription: 'items' };
const BATCH = 1_000;
const DAY_MS = 86_400_000;

export interface PrefillResult {
  events: number;
  objectStates: number;
  objectChildren: number;
  cases: number;
  paymentSessions: number;
  seconds: number;
  /** `_id`s written, for random-key probes. */
  eventKeys: string[];
  objectStateKeys: string[];
}

type Doc = Record<string, unknown>;
type StripeObjectLike = Record<string, unknown> & { id: string };

export async function prefillStore(
  mongoUrl: string,
  count: number,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<PrefillResult> {
  const began = Date.now();
  const connection = mongoose.createConnection(mongoUrl, {
    autoIndex: false,
    autoCreate: true,
    bufferCommands: false,
    serverSelectionTimeoutMS: 10_000,
    retryWrites: false,
  });
  await connection.asPromise();
  const models = bindModels(connection);
  const business = bindBusinessModels(connection);
  const generator = new EventGenerator(BENCH_SECRET);
  const result: PrefillResult = {
    events: 0,
    objectStates: 0,
    objectChildren: 0,
    cases: 0,
    paymentSessions: 0,
    seconds: 0,
    eventKeys: [],
    objectStateKeys: [],
  };
  try {
    for (let done = 0; done < count;) {
      const size = Math.min(BATCH, count - done);
      const batch = {
        events: [] as Doc[],
        states: [] as Doc[],
        children: [] as Doc[],
        cases: [] as Doc[],
        sessions: [] as Doc[],
      };
      for (let index = 0; index < size; index++) addEvent(generator, batch, result);
      await models.StripeEvent.insertMany(batch.events, { ordered: false });
      await models.ObjectState.insertMany(batch.states, { ordered: false });
      if (batch.children.length > 0) await models.ObjectChild.insertMany(batch.children, { ordered: false });
      if (batch.cases.length > 0) await business.Case.insertMany(batch.cases, { ordered: false });
      if (batch.sessions.length > 0) await business.PaymentSession.insertMany(batch.sessions, { ordered: false });
      result.events += batch.events.length;
      result.objectStates += batch.states.length;
      result.objectChildren += batch.children.length;
      result.cases += batch.cases.length;
      result.paymentSessions += batch.sessions.length;
      done += size;
      onProgress(done, count);
    }
  } finally {
    await connection.close();
  }
  result.seconds = (Date.now() - began) / 1000;
  return result;
}

function addEvent(
  generator: EventGenerator,
  batch: { events: Doc[]; states: Doc[]; children: Doc[]; cases: Doc[]; sessions: Doc[] },
  result: PrefillResult,
): void {
  const generated = generator.next();
  const event = JSON.parse(generated.body) as Parameters<typeof summarizeEvent>[0] & {
    data: { object: StripeObjectLike; previous_attributes?: Record<string, unknown> };
  };
  const summary = summarizeEvent(event);
  const object = event.data.object;
  // Received some time in the last 30 days, processed a second later.
  const receivedAt = new Date(Date.now() - Math.floor(Math.random() * 30 * DAY_MS));
  const processedAt = new Date(receivedAt.getTime() + 1_000);
  const objectKey = objectStateKey(TENANT, summary.resource, summary.objectId!);
  const listName = summary.objectType ? FAN_OUT_LISTS[summary.objectType] : undefined;
  const children = listName ? listItems(object[listName]) : [];
  const business = businessRecord(summary.type, object, event, processedAt);

  batch.events.push({
    _id: eventKey(TENANT, summary.eventId),
    tenantId: TENANT,
    eventId: summary.eventId,
    type: summary.type,
    resource: summary.resource,
    objectId: summary.objectId,
    customerId: summary.customerId,
    livemode: summary.livemode,
    apiVersion: summary.apiVersion,
    eventCreated: summary.created,
    rawBody: generated.body,
    status: 'processed',
    outcome: business?.outcome ?? 'applied',
    error: null,
    workflowId: `stripe-event:${TENANT}:${summary.eventId}`,
    receivedAt,
    processedAt,
  });
  batch.states.push({
    _id: objectKey,
    tenantId: TENANT,
    resource: summary.resource,
    objectId: summary.objectId,
    objectType: summary.objectType ?? summary.resource,
    customerId: summary.customerId,
    state: JSON.stringify(object),
    deleted: false,
    watermarkCreated: summary.created,
    watermarkEventId: summary.eventId,
    lastEventType: summary.type,
    apiVersion: summary.apiVersion,
    livemode: summary.livemode,
    changeType: summary.type.slice(summary.type.lastIndexOf('.') + 1),
    previousAttributes: event.data.previous_attributes ? JSON.stringify(event.data.previous_attributes) : null,
    source: 'webhook',
    childIds: children.map((child) => child.id),
    sameSecondTie: false,
    updatedAt: processedAt,
  });
  children.forEach((child, position) =>
    batch.children.push({
      _id: objectChildKey(TENANT, summary.objectId!, listName!, child.id),
      tenantId: TENANT,
      parentResource: summary.resource,
      parentId: summary.objectId,
      list: listName,
      childId: child.id,
      position,
      state: JSON.stringify(child),
      watermarkCreated: summary.created,
      watermarkEventId: summary.eventId,
    }),
  );
  if (business?.case) batch.cases.push(business.case);
  if (business?.session) batch.sessions.push(business.session);
  result.eventKeys.push(generated.eventKey);
  result.objectStateKeys.push(objectKey);
}

/** The case or payment session the event's business handler would have written. */
function businessRecord(
  type: string,
  object: StripeObjectLike,
  event: { id: string; created: number; livemode: boolean },
  at: Date,
): { outcome: string; case?: Doc; session?: Doc } | null {
  const history = [{ eventId: event.id, type, created: event.created, stripeStatus: str(object.status) }];
  const watermark = { watermarkCreated: event.created, watermarkEventId: event.id, sameSecondTie: false };
  if (type === 'charge.dispute.created' || type === 'radar.early_fraud_warning.created') {
    const caseId = `case_${object.id}`;
    const dispute = type === 'charge.dispute.created';
    return {
      outcome: 'case_opened',
      case: {
        _id: businessKey(TENANT, caseId),
        tenantId: TENANT,
        caseId,
        kind: dispute ? 'dispute' : 'fraud',
        status: 'open',
        stripeObjectId: object.id,
        stripeStatus: str(object.status),
        chargeId: idOf(object.charge),
        paymentIntentId: idOf(object.payment_intent),
        amount: dispute && typeof object.amount === 'number' ? object.amount : null,
        currency: dispute ? str(object.currency) : null,
        reason: dispute ? str(object.reason) : str(object.fraud_type),
        evidenceDueBy: null,
        livemode: event.livemode,
        openedAt: new Date(event.created * 1000),
        resolvedAt: null,
        lastEventType: type,
        history,
        ...watermark,
        updatedAt: at,
      },
    };
  }
  if (type === 'charge.succeeded' || type === 'payment_intent.payment_failed') {
    const sessionId = str((object.metadata as Record<string, unknown> | undefined)?.hookflow_session_id);
    if (!sessionId) return null;
    const succeeded = type === 'charge.succeeded';
    const paymentError = (object.last_payment_error ?? {}) as Record<string, unknown>;
    return {
      outcome: succeeded ? 'session_linked' : 'session_failed',
      session: {
        _id: businessKey(TENANT, sessionId),
        tenantId: TENANT,
        sessionId,
        status: succeeded ? 'succeeded' : 'failed',
        chargeId: succeeded ? object.id : null,
        paymentIntentId: succeeded ? idOf(object.payment_intent) : object.id,
        customerId: idOf(object.customer),
        amount: typeof object.amount === 'number' ? object.amount : null,
        currency: str(object.currency),
        failureCode: succeeded ? null : str(paymentError.code),
        declineCode: succeeded ? null : str(paymentError.decline_code),
        livemode: event.livemode,
        lastEventType: type,
        history,
        ...watermark,
        updatedAt: at,
      },
    };
  }
  return null;
}

function listItems(value: unknown): StripeObjectLike[] {
  const data = value && typeof value === 'object' ? (value as { data?: unknown }).data : undefined;
  if (!Array.isArray(data)) return [];
  return data.filter(
    (item): item is StripeObjectLike =>
      item !== null && typeof item === 'object' && typeof (item as { id?: unknown }).id === 'string',
  );
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return null;
}
