import type Stripe from 'stripe';
import { FAN_OUT_LISTS } from '../stores/object-state-store';
import type { StripeClientResolver } from './stripe-clients';
import { isResourceMissing } from './stripe-api';

/** Stripe's largest list page. */
const PAGE_SIZE = 100;

type ListPage = { data: unknown[]; has_more: boolean };
type ListParams = { limit: number; starting_after?: string };

/**
 * The endpoint that lists a fan-out list in full, by parent object type. Stripe embeds only the
 * first 10 entries of `invoice.lines` and `subscription.items` (and, on older API versions,
 * `charge.refunds`) with `has_more: true` ("Expanding responses" / each object's reference); the
 * rest is read from these list endpoints.
 */
const CHILD_LIST_CALLS: Record<
  string,
  (client: Stripe, parentId: string, params: ListParams, options: Stripe.RequestOptions) => Promise<ListPage>
> = {
  // GET /v1/invoices/:id/lines
  invoice: (client, id, params, options) => client.invoices.listLineItems(id, params, options),
  // GET /v1/subscription_items?subscription=
  subscription: (client, id, params, options) =>
    client.subscriptionItems.list({ subscription: id, ...params }, options),
  // GET /v1/refunds?charge=
  charge: (client, id, params, options) => client.refunds.list({ charge: id, ...params }, options),
};

/** The name of the object's fan-out list when Stripe sent it truncated (`has_more: true`), else null. */
export function truncatedChildList(objectType: string | null, object: Record<string, unknown>): string | null {
  const list = objectType ? FAN_OUT_LISTS[objectType] : undefined;
  if (!list || !Object.hasOwn(CHILD_LIST_CALLS, objectType!)) return null;
  const value = object[list];
  return value && typeof value === 'object' && (value as { has_more?: unknown }).has_more === true ? list : null;
}

export interface ChildListRequest {
  client: Stripe;
  /** Connect: the connected account that owns the object (`Stripe-Account`). */
  account: string | null;
  /** Called before each request: the backfill holds a rate slot there. */
  beforeRequest?: () => Promise<void>;
}

/**
 * The object with its truncated fan-out list read in full from the API (`has_more: false`, every
 * entry), or the object unchanged when nothing is truncated. The whole list is read from the start,
 * so its entries are one consistent listing rather than the payload's ten plus a later remainder.
 * A parent the API no longer has (404 `resource_missing`) returns the object as the payload has it:
 * the state write then keeps the children it does not show. Other errors are thrown for the caller's
 * retry policy (the failure mapper).
 */
export async function completeChildList(
  objectType: string | null,
  object: Record<string, unknown>,
  request: ChildListRequest,
): Promise<Record<string, unknown>> {
  const list = truncatedChildList(objectType, object);
  if (!list || typeof object.id !== 'string') return object;
  const call = CHILD_LIST_CALLS[objectType!]!;
  const options: Stripe.RequestOptions = request.account ? { stripeAccount: request.account } : {};
  const entries: unknown[] = [];
  let cursor: string | undefined;
  for (;;) {
    await request.beforeRequest?.();
    let page: ListPage;
    try {
      page = await call(
        request.client,
        object.id,
        { limit: PAGE_SIZE, ...(cursor && { starting_after: cursor }) },
        options,
      );
    } catch (error) {
      if (isResourceMissing(error)) return object;
      throw error;
    }
    entries.push(...page.data);
    const last = page.data.at(-1) as { id?: unknown } | undefined;
    if (!page.has_more || typeof last?.id !== 'string') break;
    cursor = last.id;
  }
  return { ...object, [list]: { ...(object[list] as object), data: entries, has_more: false } };
}

/**
 * The webhook path's form: the tenant's own client (as the tie re-fetch resolves it). Without a key
 * the object is returned as it is, truncated, and the state write keeps the children it does not show.
 */
export type ChildListCompleter = (
  tenantId: string,
  objectType: string | null,
  object: Record<string, unknown>,
  account: string | null,
) => Promise<Record<string, unknown>>;

export function createChildListCompleter(clients: StripeClientResolver): ChildListCompleter {
  return async (tenantId, objectType, object, account) => {
    if (!truncatedChildList(objectType, object)) return object;
    const found = await clients.clientFor(tenantId);
    if (!found) return object;
    return completeChildList(objectType, object, { client: found.client, account });
  };
}
