import {
  eventKey,
  objectStateKey,
  signatureHeader,
  stripeEvent,
  stripeObject,
  uniqueId,
  type StripeEventPayload,
} from './hookflow';

/**
 * Signed, unique, mixed Stripe events for the load generator. Each event type's body is built once
 * with the project's helpers (Stripe's example objects from fixtures/, the Event envelope) around
 * placeholder ids; every request then gets fresh ids, the current `created` and its own signature.
 * Bodies are pretty-printed like Stripe's. Every event names a new object, so each one writes a
 * new object_state row (and no two events contend for one object's lock).
 */

export const BENCH_SECRET = 'whsec_hookflow_bench_0123456789abcdef';
export const TENANT = 'default';

const EVT = '__HF_EVT__';
const OBJ = '__HF_OBJ__';
const CUS = '__HF_CUS__';
const SESSION = '__HF_SESSION__';
const ORG = '__HF_ORG__';
const USER = '__HF_USER__';
const CREATED = 1999999991;

interface EventSpec {
  type: string;
  resource: string;
  /** Prefix of the object's id (`cus`, `in`, …). */
  prefix: string;
  /** Relative share of the mix. */
  weight: number;
  overrides?: Record<string, unknown>;
  previousAttributes?: Record<string, unknown>;
}

/**
 * The mix: mostly the high-volume customer/invoice/charge/payment-intent traffic, plus every
 * business handler that needs no external service (cases, payment sessions, Clerk without a key).
 */
export const EVENT_MIX: EventSpec[] = [
  { type: 'customer.created', resource: 'customer', prefix: 'cus', weight: 10 },
  {
    type: 'customer.updated',
    resource: 'customer',
    prefix: 'cus',
    weight: 14,
    previousAttributes: { email: 'old@example.com' },
  },
  { type: 'invoice.paid', resource: 'invoice', prefix: 'in', weight: 14, overrides: { customer: CUS } },
  {
    type: 'charge.succeeded',
    resource: 'charge',
    prefix: 'ch',
    weight: 14,
    overrides: { customer: CUS, metadata: { hookflow_session_id: SESSION } },
  },
  {
    type: 'payment_intent.succeeded',
    resource: 'payment_intent',
    prefix: 'pi',
    weight: 14,
    overrides: { customer: CUS },
  },
  {
    type: 'payment_intent.payment_failed',
    resource: 'payment_intent',
    prefix: 'pi',
    weight: 4,
    overrides: {
      customer: CUS,
      status: 'requires_payment_method',
      metadata: { hookflow_session_id: SESSION },
      last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', type: 'card_error' },
    },
  },
  {
    type: 'customer.subscription.updated',
    resource: 'subscription',
    prefix: 'sub',
    weight: 10,
    overrides: { customer: CUS, metadata: { organization_id: ORG } },
    previousAttributes: { status: 'trialing' },
  },
  {
    type: 'product.updated',
    resource: 'product',
    prefix: 'prod',
    weight: 6,
    previousAttributes: { name: 'Old name' },
  },
  {
    type: 'charge.dispute.created',
    resource: 'dispute',
    prefix: 'dp',
    weight: 5,
    overrides: { status: 'needs_response' },
  },
  { type: 'radar.early_fraud_warning.created', resource: 'radar.early_fraud_warning', prefix: 'issfr', weight: 3 },
  {
    type: 'checkout.session.completed',
    resource: 'checkout.session',
    prefix: 'cs',
    weight: 6,
    overrides: { customer: CUS, client_reference_id: ORG, metadata: { clerk_user_id: USER } },
  },
];

interface Template {
  spec: EventSpec;
  /** The body split at its placeholders: text, token, text, token, … text. */
  parts: string[];
  tokens: Set<string>;
}

/** Placeholders filled with a fresh id of this prefix, when the template has them. */
const TOKEN_PREFIXES: Array<[string, string]> = [
  [CUS, 'cus'],
  [SESSION, 'ps'],
  [ORG, 'org'],
  [USER, 'user'],
];

export interface GeneratedEvent {
  type: string;
  eventId: string;
  objectId: string;
  body: string;
  signature: string;
  /** `_id` of the stored event and of its object_state row. */
  eventKey: string;
  objectStateKey: string;
}

const TOKEN = new RegExp(`(${[EVT, OBJ, CUS, SESSION, ORG, USER].join('|')}|${CREATED})`);

function buildTemplate(spec: EventSpec): Template {
  const object = stripeObject(spec.resource, { id: OBJ, ...spec.overrides });
  const event: StripeEventPayload = stripeEvent(spec.type, object, {
    id: EVT,
    created: CREATED,
    previousAttributes: spec.previousAttributes,
  });
  const parts = JSON.stringify(event, null, 2).split(TOKEN);
  return { spec, parts, tokens: new Set(parts.filter((_, index) => index % 2 === 1)) };
}

/** A weighted round-robin over EVENT_MIX: exact shares, interleaved, no randomness. */
function weightedSequence(): number[] {
  const sequence: number[] = [];
  const total = EVENT_MIX.reduce((sum, spec) => sum + spec.weight, 0);
  const credit = EVENT_MIX.map(() => 0);
  for (let step = 0; step < total; step++) {
    EVENT_MIX.forEach((spec, index) => (credit[index]! += spec.weight));
    let best = 0;
    credit.forEach((value, index) => {
      if (value > credit[best]!) best = index;
    });
    credit[best]! -= total;
    sequence.push(best);
  }
  return sequence;
}

/** The headers Stripe sends with a delivery, for both load generators. */
export function deliveryHeaders(event: GeneratedEvent): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
    'stripe-signature': event.signature,
  };
}

export class EventGenerator {
  private readonly templates = EVENT_MIX.map(buildTemplate);
  private readonly sequence = weightedSequence();
  private position = 0;
  /** Events built so far (autocannon builds one per request it writes). */
  generated = 0;
  readonly counts: Record<string, number> = {};
  /** `_id`s of every event generated (and of its object_state row), when tracking is on. */
  readonly eventKeys: string[] = [];
  readonly objectStateKeys: string[] = [];

  constructor(
    private readonly secret: string = BENCH_SECRET,
    private readonly track = false,
  ) {}

  next(): GeneratedEvent {
    const template = this.templates[this.sequence[this.position++ % this.sequence.length]!]!;
    const { spec } = template;
    const eventId = uniqueId('evt');
    const objectId = uniqueId(spec.prefix);
    const created = String(Math.floor(Date.now() / 1000));
    const values: Record<string, string> = { [EVT]: eventId, [OBJ]: objectId, [String(CREATED)]: created };
    for (const [token, prefix] of TOKEN_PREFIXES) if (template.tokens.has(token)) values[token] = uniqueId(prefix);
    let body = '';
    for (let index = 0; index < template.parts.length; index++) {
      const part = template.parts[index]!;
      body += index % 2 === 1 ? values[part]! : part;
    }
    this.counts[spec.type] = (this.counts[spec.type] ?? 0) + 1;
    this.generated++;
    const keys = {
      eventKey: eventKey(TENANT, eventId),
      objectStateKey: objectStateKey(TENANT, spec.type.split('.')[0]!, objectId),
    };
    if (this.track) {
      this.eventKeys.push(keys.eventKey);
      this.objectStateKeys.push(keys.objectStateKey);
    }
    return { type: spec.type, eventId, objectId, body, signature: signatureHeader(body, this.secret), ...keys };
  }
}
