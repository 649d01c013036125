import { ApplicationFailure, Context } from '@temporalio/activity';
import type Stripe from 'stripe';
import { eventWorkflowId } from '../src/contracts';
import type { Stores } from '../src/stores';
import type { ObjectSource } from '../src/stores/object-state-store';
import { completeChildList, truncatedChildList } from '../src/stripe/child-lists';
import { summarizeEvent, type EventSummary } from '../src/stripe/event-summary';
import { SNAPSHOT_RESOURCES, type SnapshotResource } from '../src/stripe/snapshot-resources';
import { isResourceMissing } from '../src/stripe/stripe-api';
import type { StripeClientResolver, TenantStripeClient } from '../src/stripe/stripe-clients';
import type { StartEventWorkflowInput } from '../src/temporal/event-workflows';
import { toApplicationFailure } from '../src/temporal/failure-mapper';
import { activityLog } from './stored-event';
import type {
  CatchUpPageInput,
  CatchUpPageResult,
  CustomerWalkCursor,
  SnapshotCursor,
  SnapshotPageInput,
  SnapshotPageResult,
  StripeActivities,
  StripeMode,
  StripeTarget,
} from './stripe-types';

export interface StripeActivityDeps {
  clients: StripeClientResolver;
  stores: Pick<Stores, 'events' | 'objectState' | 'rateSlots'>;
  /**
   * STRIPE_API_LIVE/SANDBOX_REQUESTS_PER_SECOND: every worker paces its Stripe requests through the
   * shared slots of `stores.rateSlots`, so the whole fleet stays at this rate per key mode. Absent =
   * unpaced (scripts and tests that call the activities directly).
   */
  requestsPerSecond?: Record<StripeMode, number>;
  /** The receiver's own start (same workflow id and policies): catch-up feeds events through it. */
  startEventWorkflow: (input: StartEventWorkflowInput) => Promise<unknown>;
}

/** Stripe's largest list page. */
const PAGE_SIZE = 100;
/** Objects of a page written at once: each takes its own object lock, so they never collide. */
const WRITE_CONCURRENCY = 8;

/**
 * Activities that call the Stripe API (backfill pages, catch-up pages). Each makes one Stripe list
 * request, plus one per page of a nested list Stripe cut short on an object of a backfill page
 * (`invoice.lines` past 10, …); every request waits for its own rate slot.
 * Errors go through the one failure mapper: a 429 is a retryable `StripeRateLimited` (stripe-node
 * does not retry it), a timeout or 5xx a retryable `StripeUnavailable`, another 4xx non-retryable.
 */
export function createStripeActivities(deps: StripeActivityDeps): StripeActivities {
  async function clientFor(target: StripeTarget): Promise<TenantStripeClient> {
    const found = await deps.clients.clientFor(target.tenantId, target.environment);
    if (!found) {
      throw ApplicationFailure.nonRetryable(
        `no Stripe API key for tenant ${target.tenantId}${target.environment ? ` (${target.environment})` : ''}: set STRIPE_API_KEY, or store one with \`hookflow tenants rotate-secret --stripe-api-key-file\``,
        'StripeApiKeyMissing',
      );
    }
    return found;
  }

  /**
   * Waits for this request's slot of the mode's fleet-wide rate (rate-slot-store.ts), heartbeating
   * while it waits, so that one activity is one Stripe request at the configured rate.
   */
  async function pace(mode: StripeMode, cursor: SnapshotCursor | null): Promise<void> {
    const perSecond = deps.requestsPerSecond?.[mode];
    if (!perSecond) return;
    const slot = await deps.stores.rateSlots.claim(`stripe:${mode}`, perSecond);
    for (let wait = slot.at - Date.now(); wait > 0; wait = slot.at - Date.now()) {
      heartbeat({ cursor, stage: 'waiting for a request slot', sendAt: new Date(slot.at).toISOString() });
      await sleep(Math.min(wait, 5_000));
    }
    // Only slots in the past are released: nobody claims below the current one.
    void slot.release().catch(() => undefined);
  }

  async function request<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw toApplicationFailure(error, { service: 'Stripe', action });
    }
  }

  /**
   * Writes a page's objects through the object-state path (`source: snapshot`, watermark the
   * snapshot time), each with its nested list read in full first when Stripe cut it short.
   */
  async function writeSnapshot(
    client: Stripe,
    mode: StripeMode,
    input: SnapshotPageInput,
    objects: Array<Record<string, unknown> & { id: string }>,
    snapshotAt: number,
  ): Promise<{ applied: number; stale: number }> {
    const resource = input.resource as SnapshotResource;
    heartbeat({ cursor: input.cursor, stage: 'writing', objects: objects.length });
    // A nested list cut short is read in full before the write, paced like the page itself.
    const withChildren = async (object: Record<string, unknown> & { id: string }) => {
      const objectType = typeof object.object === 'string' ? object.object : resource;
      const list = truncatedChildList(objectType, object);
      if (!list) return object;
      heartbeat({ cursor: input.cursor, stage: `listing the ${list} of ${object.id}` });
      const full = await request(`listing the ${list} of ${objectType} ${object.id}`, () =>
        completeChildList(objectType, object, {
          client,
          account: input.account ?? null,
          beforeRequest: () => pace(mode, input.cursor),
        }),
      );
      return full as Record<string, unknown> & { id: string };
    };
    let applied = 0;
    let stale = 0;
    for (let start = 0; start < objects.length; start += WRITE_CONCURRENCY) {
      const outcomes = await Promise.all(
        objects.slice(start, start + WRITE_CONCURRENCY).map(async (listed) => {
          const object = await withChildren(listed);
          return deps.stores.objectState.apply({
            tenantId: input.tenantId,
            summary: {
              ...snapshotSummary(resource, object, input.runId, snapshotAt),
              account: input.account ?? null,
            },
            object,
            previousAttributes: undefined,
            source: 'snapshot' satisfies ObjectSource,
          });
        }),
      );
      stale += outcomes.filter(({ outcome }) => outcome === 'stale').length;
      applied += outcomes.filter(({ outcome }) => outcome !== 'stale').length;
      heartbeat({ cursor: input.cursor, stage: 'writing', written: start + outcomes.length });
    }
    return { applied, stale };
  }

  /**
   * One request of the `payment_method` walk: a customers page, or a page of the first pending
   * customer's payment methods (`GET /v1/customers/:id/payment_methods`). Stripe's
   * `GET /v1/payment_methods` "returns a list of PaymentMethods for Treasury flows" and points to the
   * customer list for payments (API reference, "List PaymentMethods"), so it is not read: the payment
   * methods a payments integration keeps are saved on customers, and the Treasury list would be a
   * second walk over objects it does not use. The cursor names the next request, so a retried or
   * resumed page repeats only itself.
   *
   * `--since` cannot narrow the customers (an old customer gets new cards) and a customer's list takes
   * no `created` filter: every customer is walked, and only payment methods created at or after it
   * are written. Pages report no `created` range: the walk is not in time order, so it gives no ETA.
   */
  async function walkCustomersPage(
    client: Stripe,
    mode: StripeMode,
    input: SnapshotPageInput,
  ): Promise<SnapshotPageResult> {
    const walk: CustomerWalkCursor =
      input.cursor !== null && typeof input.cursor === 'object'
        ? input.cursor
        : { customersAfter: null, lastCustomersPage: false, customers: [], after: null };
    await pace(mode, input.cursor);
    const snapshotAt = Math.floor(Date.now() / 1000);
    heartbeat({ cursor: input.cursor, stage: 'requesting' });
    const customer = walk.customers[0];
    if (customer === undefined) {
      const page = await request(`listing customers after ${walk.customersAfter ?? 'the start'}`, () =>
        client.customers.list(
          { limit: PAGE_SIZE, ...(walk.customersAfter ? { starting_after: walk.customersAfter } : {}) },
          requestOptions(input),
        ),
      );
      const customers = page.data.map((listed) => listed.id);
      const lastCustomersPage = !page.has_more || customers.length === 0;
      return walkResult(0, 0, 0, snapshotAt, {
        customersAfter: customers.at(-1) ?? walk.customersAfter,
        lastCustomersPage,
        customers,
        after: null,
      });
    }
    // A customer deleted since its customers page was read (404 resource_missing) has no payment methods left.
    const page = await request(
      `listing the payment methods of customer ${customer} after ${walk.after ?? 'the start'}`,
      () =>
        client.customers
          .listPaymentMethods(
            customer,
            { limit: PAGE_SIZE, ...(walk.after ? { starting_after: walk.after } : {}) },
            requestOptions(input),
          )
          .catch((error: unknown) => {
            if (isResourceMissing(error)) return { data: [], has_more: false };
            throw error;
          }),
    );
    const listed = page.data as unknown as Array<Record<string, unknown> & { id: string }>;
    const since = input.since;
    const wanted = since === null ? listed : listed.filter((object) => (createdOf(object) ?? since) >= since);
    const { applied, stale } = await writeSnapshot(client, mode, input, wanted, snapshotAt);
    activityLog('snapshot page written', {
      resource: 'payment_method',
      customer,
      objects: wanted.length,
      applied,
      stale,
    });
    const last = listed.at(-1);
    const next: CustomerWalkCursor =
      page.has_more && last
        ? { ...walk, after: last.id }
        : { ...walk, customers: walk.customers.slice(1), after: null };
    return walkResult(wanted.length, applied, stale, snapshotAt, next);
  }

  return {
    async stripeModeOf(target) {
      return (await clientFor(target)).mode;
    },

    async snapshotPage(input: SnapshotPageInput): Promise<SnapshotPageResult> {
      const { client, mode } = await clientFor(input);
      const resource = input.resource as SnapshotResource;
      const spec = SNAPSHOT_RESOURCES[resource];
      if (!spec) throw ApplicationFailure.nonRetryable(`unknown resource ${input.resource}`, 'UnknownResource');
      if (resource === 'payment_method') return walkCustomersPage(client, mode, input);
      const cursor = typeof input.cursor === 'string' ? input.cursor : null;
      await pace(mode, input.cursor);
      // The snapshot time: taken before the request, so nothing the page shows is newer than it.
      const snapshotAt = Math.floor(Date.now() / 1000);
      heartbeat({ cursor: input.cursor, stage: 'requesting' });
      const page = await request(`listing ${spec.path} after ${cursor ?? 'the start'}`, () =>
        listPage(client, resource, input, cursor),
      );
      const { applied, stale } = await writeSnapshot(client, mode, input, page.data, snapshotAt);
      const last = page.data.at(-1);
      activityLog('snapshot page written', { resource, objects: page.data.length, applied, stale });
      return {
        objects: page.data.length,
        applied,
        stale,
        nextCursor: last ? (last.id as string) : null,
        hasMore: page.has_more && last !== undefined,
        snapshotAt,
        firstCreated: createdOf(page.data[0]),
        lastCreated: createdOf(last),
      };
    },

    async catchUpPage(input: CatchUpPageInput): Promise<CatchUpPageResult> {
      const { client, mode } = await clientFor(input);
      await pace(mode, input.cursor);
      heartbeat({ cursor: input.cursor });
      const page = await request(`listing events after ${input.cursor ?? 'the start'}`, () =>
        client.events.list(
          {
            limit: PAGE_SIZE,
            created: { gte: input.since },
            ...(input.cursor ? { starting_after: input.cursor } : {}),
          },
          requestOptions(input),
        ),
      );
      const received = page.data.map((event) => {
        const rawBody = JSON.stringify(event);
        const summary = summarizeEvent(event as unknown as Parameters<typeof summarizeEvent>[0]);
        return { tenantId: input.tenantId, summary, rawBody, workflowId: '' };
      });
      const result: CatchUpPageResult = {
        seen: received.length,
        alreadyStored: 0,
        stored: 0,
        started: 0,
        nextCursor: page.data.at(-1)?.id ?? null,
        hasMore: page.has_more && page.data.length > 0,
      };
      if (received.length === 0) return result;
      // The receiver's path: one group commit into the ledger (unique per tenant and event id), then
      // the same workflow start; an event stored before is a duplicate and is started only if its
      // outcome was never recorded.
      const { inboxId, results } = await deps.stores.events.recordBatch(
        received.map((item) => ({ ...item, workflowId: eventWorkflowId(item.tenantId, item.summary.eventId) })),
      );
      for (const [index, recorded] of results.entries()) {
        if (recorded.duplicate) result.alreadyStored++;
        else result.stored++;
        if (!recorded.needsStart) continue;
        await deps.startEventWorkflow({ tenantId: input.tenantId, summary: received[index]!.summary });
        result.started++;
      }
      await deps.stores.events.releaseInbox(inboxId);
      activityLog('catch-up page fed', { ...result });
      return result;
    },
  };
}

/** One page of a resource's list endpoint, through the SDK. */
async function listPage(
  client: Stripe,
  resource: SnapshotResource,
  input: SnapshotPageInput,
  cursor: string | null,
): Promise<{ data: Array<Record<string, unknown> & { id: string }>; has_more: boolean }> {
  const params: Record<string, unknown> = { limit: PAGE_SIZE };
  if (cursor) params.starting_after = cursor;
  if (input.since !== null) params.created = { gte: input.since };
  // Without status=all, canceled subscriptions are left out of the list.
  if (resource === 'subscription') params.status = 'all';
  const api = client[SNAPSHOT_RESOURCES[resource].sdk] as unknown as {
    list(params: unknown, options: Stripe.RequestOptions): Promise<{ data: unknown[]; has_more: boolean }>;
  };
  const page = await api.list(params, requestOptions(input));
  return page as { data: Array<Record<string, unknown> & { id: string }>; has_more: boolean };
}

function requestOptions(target: StripeTarget): Stripe.RequestOptions {
  return target.account ? { stripeAccount: target.account } : {};
}

/**
 * A snapshot object as an "event" for the object-state write path: its watermark is the snapshot
 * time with a per-run id, so an event created after the snapshot wins, and the snapshot does not
 * overwrite state from such an event (watermark.ts).
 */
function snapshotSummary(
  resource: SnapshotResource,
  object: Record<string, unknown> & { id: string },
  runId: string,
  snapshotAt: number,
): EventSummary {
  const objectType = typeof object.object === 'string' ? object.object : resource;
  const customer = object.customer;
  const customerId =
    objectType === 'customer'
      ? object.id
      : typeof customer === 'string'
        ? customer
        : customer && typeof customer === 'object' && typeof (customer as { id?: unknown }).id === 'string'
          ? (customer as { id: string }).id
          : null;
  return {
    eventId: `snapshot:${runId}`,
    type: `${objectType}.snapshot`,
    resource: SNAPSHOT_RESOURCES[resource].stateResource,
    objectId: object.id,
    objectType,
    customerId,
    livemode: object.livemode === true,
    apiVersion: null,
    created: snapshotAt,
  };
}

/** A walk page: more to come while customers are pending or another customers page follows. */
function walkResult(
  objects: number,
  applied: number,
  stale: number,
  snapshotAt: number,
  next: CustomerWalkCursor,
): SnapshotPageResult {
  return {
    objects,
    applied,
    stale,
    nextCursor: next,
    hasMore: next.customers.length > 0 || !next.lastCustomersPage,
    snapshotAt,
    firstCreated: null,
    lastCreated: null,
  };
}

function createdOf(object: Record<string, unknown> | undefined): number | null {
  return typeof object?.created === 'number' ? object.created : null;
}

/** Cancellation-aware inside an activity (a cancelled backfill stops waiting), a timer elsewhere. */
async function sleep(ms: number): Promise<void> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    context = undefined;
  }
  if (context) await context.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

function heartbeat(details: Record<string, unknown>): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity (a script or test calling the function directly): nothing to report.
  }
}
