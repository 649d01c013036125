import Router from '@koa/router';
import { AppError } from '../errors';
import { DeliveryNotFound, EndpointDisabled, NotResendable, type DeliveryService } from '../outbound/delivery-service';
import { InvalidSince, parseSince } from '../outbound/since';
import { EndpointNotFound } from '../stores/endpoint-store';
import { InvalidCursor, MESSAGE_STATUSES, type MessageStatus } from '../stores/message-store';
import { limitOf, onlyQuery, requireAdminToken, single } from './admin-api-router';
import { onlyFields, readJsonObject } from './json-body';

export interface DeliveriesApiDeps {
  deliveries: DeliveryService;
  /** `HOOKFLOW_ADMIN_TOKEN`; null disables the API. */
  adminToken: string | null;
}

export const MESSAGE_ID_PATTERN = /^msg_[0-9a-f]{32}$/;
export const ENDPOINT_ID_PATTERN = /^ep_[0-9a-f]{24}$/;
const DELIVERY_FILTERS = ['status', 'endpoint', 'tenant', 'limit', 'cursor'] as const;
/** Who a resend is recorded as when the API caller does not say (`{"by": "…"}`). */
const DEFAULT_ACTOR = 'api';

/**
 * Outbound deliveries for support (bearer `HOOKFLOW_ADMIN_TOKEN`): `GET /api/deliveries`
 * (`status`, `endpoint`, `tenant`, `limit`, `cursor`), `GET /api/deliveries/:id` (with every attempt),
 * `POST /api/deliveries/:id/resend`, `POST /api/endpoints/:id/recover {since}`.
 */
export function createDeliveriesApiRouter(deps: DeliveriesApiDeps): Router {
  const { deliveries } = deps;
  const router = new Router({ prefix: '/api' });
  router.use(requireAdminToken(deps.adminToken));

  router.get('/deliveries', onlyQuery(DELIVERY_FILTERS), async (ctx) => {
    const endpoint = single(ctx.query.endpoint);
    if (endpoint !== undefined) endpointId(endpoint);
    const page = await translate(() =>
      deliveries.list({
        status: statusOf(single(ctx.query.status)),
        endpointId: endpoint,
        tenantId: single(ctx.query.tenant),
        limit: limitOf(ctx.query.limit),
        cursor: single(ctx.query.cursor),
      }),
    );
    ctx.body = page;
  });

  router.get('/deliveries/:id', onlyQuery([]), async (ctx) => {
    ctx.body = { delivery: await translate(() => deliveries.get(messageId(ctx.params.id))) };
  });

  router.post('/deliveries/:id/resend', onlyQuery([]), async (ctx) => {
    const id = messageId(ctx.params.id);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['by']);
    ctx.status = 202;
    ctx.body = { resend: await translate(() => deliveries.resend(id, actorOf(body.by))) };
  });

  router.post('/endpoints/:id/recover', onlyQuery([]), async (ctx) => {
    const id = endpointId(ctx.params.id);
    const body = await readJsonObject(ctx);
    onlyFields(body, ['since', 'by']);
    if (typeof body.since !== 'string') {
      throw new AppError(400, 'bad_request', 'since is required: a duration such as 2h or 7d, or an ISO date.');
    }
    const since = await translate(async () => parseSince(body.since as string));
    ctx.status = 202;
    ctx.body = { recover: await translate(() => deliveries.recover(id, since, actorOf(body.by))) };
  });

  return router;
}

function messageId(value: string): string {
  if (!MESSAGE_ID_PATTERN.test(value)) {
    throw new AppError(400, 'invalid_id', `'${value.slice(0, 80)}' is not a delivery id (msg_ and 32 hex digits).`);
  }
  return value;
}

function endpointId(value: string): string {
  if (!ENDPOINT_ID_PATTERN.test(value)) {
    throw new AppError(400, 'invalid_id', `'${value.slice(0, 80)}' is not an endpoint id (ep_ and 24 hex digits).`);
  }
  return value;
}

function statusOf(value: string | undefined): MessageStatus | undefined {
  if (value === undefined) return undefined;
  if (!(MESSAGE_STATUSES as readonly string[]).includes(value)) {
    throw new AppError(400, 'bad_request', `status must be one of ${MESSAGE_STATUSES.join(', ')}.`);
  }
  return value as MessageStatus;
}

function actorOf(value: unknown): string {
  if (value === undefined) return DEFAULT_ACTOR;
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > 100) {
    throw new AppError(400, 'bad_request', 'by must be a name of 1 to 100 characters.');
  }
  return value.trim();
}

/** The delivery service's errors in the HTTP vocabulary. */
async function translate<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DeliveryNotFound || error instanceof EndpointNotFound) {
      throw new AppError(404, 'not_found', error.message);
    }
    if (error instanceof NotResendable) throw new AppError(409, 'not_resendable', error.message);
    if (error instanceof EndpointDisabled) throw new AppError(409, 'endpoint_disabled', error.message);
    if (error instanceof InvalidCursor) throw new AppError(400, 'invalid_cursor', error.message);
    if (error instanceof InvalidSince) throw new AppError(400, 'invalid_since', error.message);
    throw error;
  }
}
