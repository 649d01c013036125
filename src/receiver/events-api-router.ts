import Router from '@koa/router';
import { AppError } from '../errors';
import {
  AmbiguousEventId,
  EVENT_LIST_PARAMETERS,
  EventNotFound,
  InvalidEventQuery,
  parseEventId,
  parseEventListQuery,
  type EventQueries,
} from '../support/event-queries';
import {
  BulkRerunNotFound,
  BulkRerunRejected,
  BulkRerunRunning,
  InvalidRerunRequest,
  parseBulkJobId,
  RerunRefused,
  type RerunService,
} from '../support/reruns';
import { onlyQuery, requireAdminToken, single } from './admin-api-router';
import { onlyFields, readJsonObject } from './json-body';

export interface EventsApiDeps {
  queries: EventQueries;
  reruns: RerunService;
  /** `HOOKFLOW_ADMIN_TOKEN`; null disables the API. */
  adminToken: string | null;
}

/** Who an API re-run is recorded as when the caller does not say (`{"by": "…"}`). */
const DEFAULT_ACTOR = 'api';

/**
 * Events and re-runs for support (bearer `HOOKFLOW_ADMIN_TOKEN`): `GET /api/events`,
 * `GET /api/events/:id`, `POST /api/events/:id/rerun`, `POST /api/reruns` (plan with `dryRun`),
 * `GET /api/reruns/:id`, `POST /api/reruns/:id/cancel`. Unknown query parameters and body fields
 * are 400s; the service's errors map to the JSON error vocabulary in translateSupportError.
 */
export function createEventsApiRouter(deps: EventsApiDeps): Router {
  const { queries, reruns } = deps;
  const router = new Router({ prefix: '/api' });
  router.use(requireAdminToken(deps.adminToken));

  router.get('/events', async (ctx) => {
    const query = await translate(async () => parseEventListQuery(ctx.query));
    ctx.body = await translate(() => queries.list(query));
  });

  router.get('/events/:id', onlyQuery(['tenant']), async (ctx) => {
    ctx.body = await translate(() => queries.show(ctx.params.id, single(ctx.query.tenant)));
  });

  router.post('/events/:id/rerun', onlyQuery([]), async (ctx) => {
    const eventId = await translate(async () => parseEventId(ctx.params.id));
    const body = await readJsonObject(ctx);
    onlyFields(body, ['reason', 'force', 'by', 'tenant']);
    if (body.force !== undefined && typeof body.force !== 'boolean') {
      throw new AppError(400, 'bad_request', 'force must be true or false.');
    }
    const result = await translate(() =>
      reruns.rerunEvent({
        eventId,
        tenantId: optionalString(body.tenant, 'tenant'),
        reason: body.reason as string,
        by: body.by === undefined ? DEFAULT_ACTOR : (body.by as string),
        force: body.force === true,
      }),
    );
    ctx.status = 202;
    ctx.body = result;
  });

  router.post('/reruns', onlyQuery([]), async (ctx) => {
    const body = await readJsonObject(ctx);
    onlyFields(body, ['filter', 'reason', 'by', 'dryRun']);
    const filter = body.filter ?? {};
    if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
      throw new AppError(
        400,
        'bad_request',
        `filter must be an object with any of ${EVENT_LIST_PARAMETERS.slice(0, 7).join(', ')}.`,
      );
    }
    if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') {
      throw new AppError(400, 'bad_request', 'dryRun must be true or false.');
    }
    if (body.dryRun === true) {
      ctx.body = { plan: await translate(() => reruns.planBulkRerun(filter as Record<string, unknown>)) };
      return;
    }
    const job = await translate(() =>
      reruns.startBulkRerun({
        filter: filter as Record<string, unknown>,
        reason: body.reason as string,
        by: body.by === undefined ? DEFAULT_ACTOR : (body.by as string),
      }),
    );
    ctx.status = 202;
    ctx.body = { job };
  });

  router.get('/reruns/:id', onlyQuery([]), async (ctx) => {
    ctx.body = { job: await translate(() => reruns.getBulkRerun(parseBulkJobId(ctx.params.id))) };
  });

  router.post('/reruns/:id/cancel', onlyQuery([]), async (ctx) => {
    const id = await translate(async () => parseBulkJobId(ctx.params.id));
    const body = await readJsonObject(ctx);
    onlyFields(body, ['by']);
    ctx.status = 202;
    ctx.body = {
      job: await translate(() =>
        reruns.cancelBulkRerun(id, body.by === undefined ? DEFAULT_ACTOR : (body.by as string)),
      ),
    };
  });

  return router;
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError(400, 'bad_request', `${name} must be a string.`);
  return value;
}

/** The support services' errors in the HTTP vocabulary (also for the admin page's routes). */
export function translateSupportError(error: unknown): unknown {
  if (error instanceof InvalidEventQuery) return new AppError(400, error.code, error.message);
  if (error instanceof InvalidRerunRequest) return new AppError(400, error.code, error.message);
  if (error instanceof EventNotFound) return new AppError(404, 'event_not_found', error.message);
  if (error instanceof BulkRerunNotFound) return new AppError(404, 'rerun_not_found', error.message);
  if (error instanceof AmbiguousEventId) return new AppError(409, 'ambiguous_event_id', error.message);
  if (error instanceof RerunRefused) return new AppError(409, error.code, error.message);
  if (error instanceof BulkRerunRunning) return new AppError(409, 'bulk_rerun_running', error.message);
  if (error instanceof BulkRerunRejected) return new AppError(422, error.code, error.message);
  return error;
}

async function translate<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translateSupportError(error);
  }
}
