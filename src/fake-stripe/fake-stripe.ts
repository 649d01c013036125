import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stripeObject, type StripeObject } from '../stripe/sample-events';
import { SNAPSHOT_RESOURCES, type SnapshotResource } from '../stripe/snapshot-resources';

/**
 * A small local fake of the Stripe REST API: list and retrieve for the 14 snapshottable resources,
 * `GET /v1/events`, `GET /v2/core/events`, the related objects of thin events and the child lists of
 * invoices, subscriptions and charges (`addChildren`), and a customer's payment methods
 * (`GET /v1/customers/:id/payment_methods`: the added payment methods whose `customer` is that id).
 * It serves what it is given (or Stripe's example objects with fresh ids), in Stripe's order (newest first) with
 * Stripe's cursor paging, answers an unknown id 404 `resource_missing` as Stripe does, and can
 * inject latency, 429s and 5xx. `hookflow fake-stripe` runs it for offline use; the tests use it to
 * drive the real SDK. stripe-mock cannot do this: its lists ignore `starting_after` (stack-notes.md).
 */
export interface FakeStripeOptions {
  /** Added to every request. */
  latencyMs?: number;
  /** Every nth API request answers 429 (0 = never). */
  rateLimitEvery?: number;
  /** Requests without this `Stripe-Account` header are refused with 403 (the platform forgot it). */
  requireAccount?: string | null;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  account: string | null;
  status: number;
  /** Unix ms the request arrived. */
  at: number;
}

/** A one-off fault: the `nth` request (1-based) whose path matches answers `status` or stalls `delayMs`. */
export interface Fault {
  path: RegExp;
  nth?: number;
  status?: 429 | 500 | 503;
  delayMs?: number;
}

interface StoredObject {
  object: StripeObject & { created?: number };
  /** Connected account that owns it, or null for the platform. */
  account: string | null;
}

/** A thin event's related object; null: it is gone (deleted), and the API answers 404 `resource_missing`. */
interface RelatedObject {
  object: StripeObject | null;
  account: string | null;
  /** `related_object.type` and `.id`, for the 404's message. */
  type: string;
  id: string;
}

export class FakeStripe {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, StoredObject[]>();
  private readonly events: Array<StoredObject & { delivered: boolean }> = [];
  private readonly v2Events: Array<Record<string, unknown> & { id: string }> = [];
  /** Objects of thin events by API path (`related_object.url`), e.g. `/v1/disputes/dp_…`. */
  private readonly related = new Map<string, RelatedObject>();
  /** Child lists by `<parent type>:<parent id>`, in the order given (addChildren). */
  private readonly children = new Map<string, StoredObject[]>();
  private readonly faults: Array<Fault & { seen: number; done: boolean }> = [];
  private server: Server | undefined;
  private apiRequests = 0;

  constructor(private readonly options: FakeStripeOptions = {}) {}

  /** Adds objects to a resource's list (any order; lists are served newest first). */
  add(resource: SnapshotResource, objects: StripeObject[], account: string | null = null): void {
    const path = SNAPSHOT_RESOURCES[resource].path;
    const list = this.objects.get(path) ?? [];
    list.push(...objects.map((object) => ({ object, account })));
    list.sort(newestFirst);
    this.objects.set(path, list);
  }

  /** Replaces an object in place (a later change, as the API would now return it). */
  update(resource: SnapshotResource, object: StripeObject): void {
    const list = this.objects.get(SNAPSHOT_RESOURCES[resource].path) ?? [];
    const entry = list.find((stored) => stored.object.id === object.id);
    if (!entry) throw new Error(`fake Stripe has no ${resource} ${object.id}`);
    entry.object = object;
  }

  /** `count` copies of Stripe's example object with fresh ids, `created` one second apart, newest first. */
  seed(resource: SnapshotResource, count: number, options: { account?: string | null; newest?: number } = {}) {
    const newest = options.newest ?? Math.floor(Date.now() / 1000) - 60;
    const objects = Array.from({ length: count }, (_, index) => generated(resource, newest - index));
    this.add(resource, objects, options.account ?? null);
    return objects;
  }

  /** Events for `GET /v1/events`; `delivered: false` ones match `delivery_success=false`. */
  addEvent(event: StripeObject & { created: number }, options: { delivered?: boolean; account?: string } = {}) {
    this.events.push({ object: event, account: options.account ?? null, delivered: options.delivered ?? true });
    this.events.sort(newestFirst);
  }

  /** A v2 event (`GET /v2/core/events/:id`), e.g. the full event behind a thin notification. */
  addV2Event(event: Record<string, unknown> & { id: string }): void {
    this.v2Events.push(event);
  }

  /**
   * A thin event as the API serves it: the v2 event at `GET /v2/core/events/:id` and its related
   * object at `related_object.url` — for a connected account's event (`context`) only to requests
   * in that context, as Stripe scopes objects to their account. A null object is one Stripe no
   * longer has (a deleted product, price…): its url answers 404 `resource_missing`.
   */
  addThinEvent(event: Record<string, unknown> & { id: string }, relatedObject: StripeObject | null): void {
    this.addV2Event(event);
    const related = event.related_object as { url?: unknown; type?: unknown; id?: unknown } | null | undefined;
    const url = related?.url;
    if (typeof url === 'string') {
      this.related.set(url, {
        object: relatedObject,
        account: typeof event.context === 'string' ? event.context : null,
        type: String(related?.type ?? 'object'),
        id: String(related?.id ?? url.split('/').at(-1)),
      });
    }
  }

  /**
   * The full child list of a parent, served with cursor paging in the order given:
   * `GET /v1/invoices/:id/lines`, `GET /v1/subscription_items?subscription=:id`,
   * `GET /v1/refunds?charge=:id`. A parent without one answers 404 `resource_missing`.
   */
  addChildren(
    parentType: keyof typeof CHILD_LISTS,
    parentId: string,
    items: StripeObject[],
    account: string | null = null,
  ): void {
    this.children.set(
      `${parentType}:${parentId}`,
      items.map((object) => ({ object, account })),
    );
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, seen: 0, done: false });
  }

  /** API requests whose path matches (and, if given, whose query passes `where`). */
  count(path: RegExp, where: (query: URLSearchParams) => boolean = () => true): number {
    return this.requests.filter((request) => path.test(request.path) && where(request.query)).length;
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, resolve);
    });
    const address = this.server.address() as AddressInfo;
    return `http://${host}:${address.port}`;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      // The SDK sends a thin event's `context` as Stripe-Context; for an account id it scopes like Stripe-Account.
      account: header('stripe-account') ?? header('stripe-context'),
      status: 200,
      at: Date.now(),
    };
    this.requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomId()}`, ...headers });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string, code?: string) =>
      answer(status, { error: { type, message, ...(code ? { code } : {}) } });
    const missing = (what: string, id: string) =>
      error(404, 'invalid_request_error', `No such ${what}: '${id}'`, 'resource_missing');

    if (req.method === 'POST' && url.pathname === REGISTER_THIN_EVENT_PATH) return this.register(req, answer, error);
    this.apiRequests++;
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    const matching = this.faults.filter((candidate) => !candidate.done && candidate.path.test(url.pathname));
    for (const candidate of matching) candidate.seen++;
    const fault = matching.find((candidate) => candidate.seen === (candidate.nth ?? 1));
    if (fault) {
      fault.done = true;
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.status === 429)
        return error(429, 'invalid_request_error', 'Too many requests (injected by fake-stripe).');
      if (fault.status) return error(fault.status, 'api_error', 'Injected failure (fake-stripe).');
    }
    if (this.options.rateLimitEvery && this.apiRequests % this.options.rateLimitEvery === 0) {
      return error(429, 'invalid_request_error', 'Too many requests (fake-stripe --rate-limit-every).');
    }
    if (!/^Bearer (sk|rk)_(test|live)_\S+$/.test(header('authorization') ?? '')) {
      return error(401, 'invalid_request_error', 'Invalid API Key provided.');
    }
    if (this.options.requireAccount && record.account !== this.options.requireAccount) {
      return error(
        403,
        'invalid_request_error',
        `Stripe-Account header must be ${this.options.requireAccount} (got ${record.account ?? 'none'}).`,
      );
    }
    if (req.method !== 'GET') return error(405, 'invalid_request_error', 'fake-stripe serves GET requests only.');

    const v2 = /^\/v2\/core\/events(?:\/([^/]+))?$/.exec(url.pathname);
    if (v2) {
      if (v2[1]) {
        const event = this.v2Events.find((candidate) => candidate.id === v2[1]);
        return event ? answer(200, event) : missing('event', v2[1]);
      }
      return answer(200, { data: this.v2Events, next_page_url: null, previous_page_url: null });
    }
    const relatedObject = this.related.get(url.pathname);
    if (relatedObject && relatedObject.account === record.account) {
      if (relatedObject.object) return answer(200, relatedObject.object);
      return missing(relatedObject.type, relatedObject.id);
    }
    const parent = childListParent(url);
    if (parent) {
      const children = this.children.get(`${parent.type}:${parent.id}`);
      if (!children) return missing(parent.type, parent.id);
      return this.page(
        url,
        children.filter((entry) => entry.account === record.account),
        answer,
        error,
      );
    }
    const customerMethods = /^\/v1\/customers\/([^/]+)\/payment_methods$/.exec(url.pathname);
    if (customerMethods) {
      const id = customerMethods[1]!;
      const owned = (entry: StoredObject) => entry.account === record.account;
      if (!(this.objects.get('customers') ?? []).some((entry) => owned(entry) && entry.object.id === id)) {
        return missing('customer', id);
      }
      const methods = (this.objects.get('payment_methods') ?? []).filter(
        (entry) => owned(entry) && entry.object.customer === id,
      );
      return this.page(url, methods, answer, error);
    }
    const v1 = /^\/v1\/([a-z_]+)(?:\/([^/]+))?$/.exec(url.pathname);
    if (!v1) return error(404, 'invalid_request_error', `Unrecognized request URL (GET: ${url.pathname}).`);
    const [, collection, id] = v1;
    const scoped = (list: StoredObject[]) => list.filter((entry) => entry.account === record.account);
    let list: StoredObject[];
    if (collection === 'events') {
      list = scoped(this.events).filter((entry) => {
        const undelivered = url.searchParams.get('delivery_success') === 'false';
        return !undelivered || !(entry as { delivered?: boolean }).delivered;
      });
      const types = [...url.searchParams.entries()]
        .filter(([key]) => /^types\[\d*\]$/.test(key))
        .map(([, value]) => value);
      const type = url.searchParams.get('type');
      if (types.length > 0) list = list.filter((entry) => types.includes(entry.object.type as string));
      if (type) list = list.filter((entry) => entry.object.type === type);
    } else if (this.objects.has(collection!) || Object.values(SNAPSHOT_RESOURCES).some((r) => r.path === collection)) {
      list = scoped(this.objects.get(collection!) ?? []);
      // GET /v1/subscriptions leaves out canceled ones unless asked (status=all or status=canceled).
      if (collection === 'subscriptions') {
        const status = url.searchParams.get('status');
        list = list.filter((entry) =>
          status === 'all' ? true : status ? entry.object.status === status : entry.object.status !== 'canceled',
        );
      }
    } else {
      return error(404, 'invalid_request_error', `Unrecognized request URL (GET: ${url.pathname}).`);
    }
    if (id) {
      const found = list.find((entry) => entry.object.id === id);
      return found ? answer(200, found.object) : missing(collection!, id);
    }
    return this.page(url, list, answer, error);
  }

  /**
   * `hookflow trigger --thin` tells a running fake (another process, maybe another terminal) what
   * to serve for the thin event it is about to send: `{event, object}` as addThinEvent takes them.
   * Not a Stripe endpoint: it is not counted, faulted or authenticated like API requests.
   */
  private async register(
    req: IncomingMessage,
    answer: (status: number, body: unknown) => void,
    error: (status: number, type: string, message: string) => void,
  ): Promise<void> {
    let body: { event?: Record<string, unknown> & { id: string }; object?: StripeObject | null };
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      return error(400, 'invalid_request_error', 'Send {"event": <v2 event>, "object": <related object>} as JSON.');
    }
    if (!body.event || typeof body.event.id !== 'string') {
      return error(400, 'invalid_request_error', 'The body needs an event with an id.');
    }
    this.addThinEvent(body.event, body.object ?? null);
    answer(200, { registered: body.event.id });
  }

  private page(
    url: URL,
    all: StoredObject[],
    answer: (status: number, body: unknown) => void,
    error: (status: number, type: string, message: string) => void,
  ): void {
    const params = url.searchParams;
    const limit = Number(params.get('limit') ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return error(400, 'invalid_request_error', 'limit must be between 1 and 100.');
    }
    let list = all.filter((entry) => createdMatches(entry.object.created ?? 0, params));
    const after = params.get('starting_after');
    const before = params.get('ending_before');
    if (after) {
      const index = list.findIndex((entry) => entry.object.id === after);
      if (index < 0) return error(400, 'invalid_request_error', `No such object: '${after}'`);
      list = list.slice(index + 1);
    } else if (before) {
      const index = list.findIndex((entry) => entry.object.id === before);
      if (index < 0) return error(400, 'invalid_request_error', `No such object: '${before}'`);
      // The page just newer than the cursor, still newest first (as Stripe answers ending_before).
      list = list.slice(Math.max(0, index - limit), index);
      return answer(200, {
        object: 'list',
        url: url.pathname,
        has_more: index - limit > 0,
        data: list.map((e) => e.object),
      });
    }
    const data = list.slice(0, limit).map((entry) => entry.object);
    answer(200, { object: 'list', url: url.pathname, has_more: list.length > limit, data });
  }
}

/** Child list endpoints: the parent's id is in the path or in this query parameter. */
const CHILD_LISTS = {
  invoice: { path: /^\/v1\/invoices\/([^/]+)\/lines$/, parentParam: null },
  subscription: { path: /^\/v1\/subscription_items$/, parentParam: 'subscription' },
  charge: { path: /^\/v1\/refunds$/, parentParam: 'charge' },
} as const;

/** The parent whose child list a request asks for, or null (`/v1/refunds` without `charge` is the refund list). */
function childListParent(url: URL): { type: keyof typeof CHILD_LISTS; id: string } | null {
  for (const [type, spec] of Object.entries(CHILD_LISTS) as Array<
    [keyof typeof CHILD_LISTS, (typeof CHILD_LISTS)[keyof typeof CHILD_LISTS]]
  >) {
    const match = spec.path.exec(url.pathname);
    if (!match) continue;
    const id = spec.parentParam ? url.searchParams.get(spec.parentParam) : match[1];
    if (id) return { type, id };
  }
  return null;
}

/** Where `hookflow trigger --thin` registers a thin event with a running fake (FakeStripe.register). */
export const REGISTER_THIN_EVENT_PATH = '/_hookflow/thin-events';

/** Stripe lists newest first; equal seconds by id, so the order is total and cursors are stable. */
function newestFirst(a: StoredObject, b: StoredObject): number {
  return (b.object.created ?? 0) - (a.object.created ?? 0) || (a.object.id < b.object.id ? 1 : -1);
}

function createdMatches(created: number, params: URLSearchParams): boolean {
  const bound = (name: string) => (params.has(`created[${name}]`) ? Number(params.get(`created[${name}]`)) : null);
  const [gte, gt, lte, lt] = [bound('gte'), bound('gt'), bound('lte'), bound('lt')];
  return (
    (gte === null || created >= gte) &&
    (gt === null || created > gt) &&
    (lte === null || created <= lte) &&
    (lt === null || created < lt)
  );
}

/** Stripe's example object for the resource with a fresh id and the given `created`. */
export function generated(resource: SnapshotResource, created: number, overrides: Record<string, unknown> = {}) {
  const example = stripeObject(resource);
  const prefix = example.id.includes('_') ? example.id.slice(0, example.id.indexOf('_')) : resource.slice(0, 4);
  return { ...example, id: `${prefix}_${randomId()}`, created, ...overrides } as StripeObject & { created: number };
}

function randomId(): string {
  return randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
