import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { DeliveryNotFound, EndpointDisabled, NotResendable, type DeliveryService } from '../outbound/delivery-service';
import { InvalidSince, parseSince } from '../outbound/since';
import { CASE_KINDS, CASE_STATUSES, type CaseStore } from '../stores/case-store';
import { EndpointNotFound, type EndpointStore } from '../stores/endpoint-store';
import { InvalidCursor, MESSAGE_STATUSES, type MessageStatus } from '../stores/message-store';
import {
  ACCOUNT_ID_PATTERN,
  AmbiguousEventId,
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
import { AdminPageError } from './admin-errors';
import { casesPage } from './cases-page';
import { deliveriesPage, deliveryPage } from './deliveries-page';
import { endpointsPage } from './endpoints-page';
import { eventPage } from './event-page';
import { EVENT_FILTER_NAMES, eventsPage, type EventsFilter } from './events-page';
import { readForm } from './form-body';
import { queryString, type Html } from './html';
import { errorPage, type Notice } from './layout';
import { loginPage } from './login-page';
import { bulkJobPage, bulkPlanPage } from './reruns-page';
import {
  createSessionSigner,
  LOGIN_COOKIE,
  MAX_NAME_LENGTH,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sameText,
  type AdminSession,
  type SessionSigner,
} from './session';
import { ADMIN_CSS } from './styles';

export interface AdminUiDeps {
  /** HOOKFLOW_ADMIN_TOKEN; null turns the page off (it says how to turn it on). */
  adminToken: string | null;
  events: EventQueries;
  reruns: RerunService;
  deliveries: DeliveryService;
  endpoints: EndpointStore;
  cases: CaseStore;
}

const FLASH_COOKIE = 'hookflow_admin_flash';
const MESSAGE_ID = /^msg_[0-9a-f]{32}$/;
const ENDPOINT_ID = /^ep_[0-9a-f]{24}$/;

/**
 * Security headers of every admin response: no scripts at all, styles and forms from this origin
 * only, no framing (clickjacking), nothing cached, no referrer leaking ids to other sites.
 */
function securityHeaders(ctx: Context): void {
  ctx.set(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('Cache-Control', 'no-store');
}

/**
 * The admin web page at `/admin` (support staff): server-rendered HTML, a signed session cookie
 * (HttpOnly, SameSite=Strict), a CSRF token on every form, and the same services as the HTTP API
 * and the CLI — events and re-runs from src/support, deliveries from src/outbound.
 */
export function createAdminUi(deps: AdminUiDeps): Middleware {
  const signer = deps.adminToken ? createSessionSigner(deps.adminToken) : null;
  const router = signer ? buildRouter(deps, signer) : null;
  const routes = router?.routes();
  const allowed = router?.allowedMethods();

  return async (ctx: Context, next: Next) => {
    if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
    securityHeaders(ctx);
    try {
      if (!routes || !allowed || !signer) {
        throw new AdminPageError(404, 'The admin page is disabled: set HOOKFLOW_ADMIN_TOKEN to enable it.');
      }
      // The router's context type adds `params` and `router`, which the router sets itself.
      await routes(ctx as never, () => allowed(ctx as never, async () => undefined));
      if (ctx.status === 404 && ctx.body == null) throw new AdminPageError(404, `There is no page ${ctx.path}.`);
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        throw new AdminPageError(405, `${ctx.method} is not allowed here.`);
      }
    } catch (error) {
      const refusal = toPageError(error);
      ctx.status = refusal.status;
      ctx.type = 'html';
      ctx.body = errorPage(
        (ctx.state.adminSession as AdminSession | undefined) ?? null,
        refusal.status,
        refusal.message,
      ).value;
    }
  };
}

function buildRouter(deps: AdminUiDeps, signer: SessionSigner): Router {
  const router = new Router({ prefix: '/admin' });

  const send = (ctx: Context, body: Html, status = 200) => {
    ctx.status = status;
    ctx.type = 'html';
    ctx.body = body.value;
  };
  const cookieOptions = (ctx: Context, maxAge?: number) => ({
    httpOnly: true,
    sameSite: 'strict' as const,
    path: '/admin',
    // Secure when served over HTTPS (a TLS-terminating proxy needs app.proxy for Koa to see it).
    secure: ctx.secure,
    overwrite: true,
    ...(maxAge ? { maxAge } : {}),
  });
  const flash = (ctx: Context, notice: Notice) =>
    ctx.cookies.set(FLASH_COOKIE, signer.issueFlash(notice), cookieOptions(ctx, 60_000));
  const takeFlash = (ctx: Context): Notice | null => {
    const notice = signer.readFlash(ctx.cookies.get(FLASH_COOKIE));
    if (notice) ctx.cookies.set(FLASH_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 });
    return notice;
  };
  const session = (ctx: Context) => ctx.state.adminSession as AdminSession;

  router.get('/assets/admin.css', (ctx) => {
    ctx.type = 'text/css';
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.body = ADMIN_CSS;
  });

  router.get('/login', (ctx) => {
    const next = safeNext(ctx.query.next);
    if (signer.read(ctx.cookies.get(SESSION_COOKIE))) return ctx.redirect(next);
    const login = signer.issueLoginToken();
    ctx.cookies.set(LOGIN_COOKIE, login.cookie, cookieOptions(ctx, 30 * 60_000));
    const notice: Notice | null = ctx.query.signed_out ? { tone: 'ok', text: 'You are signed out.' } : null;
    send(ctx, loginPage({ loginToken: login.token, next, notice }));
  });

  router.post('/login', async (ctx) => {
    const form = await readForm(ctx);
    if (!signer.checkLoginToken(ctx.cookies.get(LOGIN_COOKIE), form.get('_csrf'))) {
      throw new AdminPageError(
        403,
        'The sign-in form expired or did not come from this page. Open the sign-in page again.',
      );
    }
    const next = safeNext(form.get('next') ?? undefined);
    const name = (form.get('name') ?? '').trim();
    const fresh = () => {
      const login = signer.issueLoginToken();
      ctx.cookies.set(LOGIN_COOKIE, login.cookie, cookieOptions(ctx, 30 * 60_000));
      return login.token;
    };
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)) {
      const notice: Notice = { tone: 'bad', text: `Enter your name (1 to ${MAX_NAME_LENGTH} characters).` };
      return send(ctx, loginPage({ loginToken: fresh(), next, name: name.slice(0, MAX_NAME_LENGTH), notice }), 400);
    }
    if (!signer.checkAdminToken(form.get('token') ?? '')) {
      const notice: Notice = { tone: 'bad', text: 'That admin token is not right.' };
      return send(ctx, loginPage({ loginToken: fresh(), next, name, notice }), 401);
    }
    const issued = signer.issue(name);
    ctx.cookies.set(SESSION_COOKIE, issued.cookie, cookieOptions(ctx, SESSION_TTL_MS));
    ctx.cookies.set(LOGIN_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 });
    ctx.status = 303;
    ctx.redirect(next);
  });

  // Everything below needs a session; every POST below also needs the session's CSRF token.
  router.use(async (ctx, next) => {
    if (ctx.path === '/admin/login' || ctx.path === '/admin/assets/admin.css') return next();
    const current = signer.read(ctx.cookies.get(SESSION_COOKIE));
    if (!current) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') {
        ctx.status = 303;
        return ctx.redirect(`/admin/login${queryString({ next: ctx.originalUrl })}`);
      }
      throw new AdminPageError(401, 'You are not signed in (or your session expired). Sign in and try again.');
    }
    ctx.state.adminSession = current;
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      const origin = ctx.get('origin');
      if (origin && origin !== ctx.origin) {
        throw new AdminPageError(403, 'This form was sent from another site; it was refused.');
      }
      const form = await readForm(ctx);
      const token = form.get('_csrf');
      if (!token || !sameText(token, current.csrf)) {
        throw new AdminPageError(
          403,
          'The form is stale or did not come from this page (CSRF check failed). Reload and try again.',
        );
      }
      ctx.state.adminForm = form;
    }
    return next();
  });
  const formOf = (ctx: Context) => ctx.state.adminForm as URLSearchParams;

  router.get('/', (ctx) => {
    ctx.redirect('/admin/events');
  });

  router.post('/logout', (ctx) => {
    ctx.cookies.set(SESSION_COOKIE, '', { ...cookieOptions(ctx), maxAge: 0 });
    ctx.status = 303;
    ctx.redirect('/admin/login?signed_out=1');
  });

  // Events and re-runs: 7A's services (src/support), the same ones /api/events and the CLI use.
  router.get('/events', async (ctx) => {
    const query = parseEventListQuery(ctx.query as Record<string, unknown>);
    const filter = pickFilter(ctx.query as Record<string, unknown>);
    const result = await deps.events.list(query);
    send(ctx, eventsPage(session(ctx), filter, result, takeFlash(ctx)));
  });

  router.get('/events/:id', async (ctx) => {
    const detail = await deps.events.show(parseEventId(ctx.params.id!), optional(ctx.query.tenant));
    send(ctx, eventPage(session(ctx), detail, takeFlash(ctx)));
  });

  router.post('/events/:id/rerun', async (ctx) => {
    const form = formOf(ctx);
    const eventId = parseEventId(ctx.params.id!);
    const tenantId = form.get('tenant') || undefined;
    const outcome = await deps.reruns.rerunEvent({
      eventId,
      tenantId,
      reason: form.get('reason') ?? '',
      by: session(ctx).name,
      force: form.get('force') === '1',
    });
    flash(ctx, { tone: 'ok', text: `Re-run #${outcome.rerun.seq} started (${outcome.rerun.workflowId}).` });
    ctx.status = 303;
    ctx.redirect(safeNext(form.get('back') ?? `/admin/events/${eventId}${queryString({ tenant: tenantId })}`));
  });

  router.get('/reruns/plan', async (ctx) => {
    const filter = { ...pickFilter(ctx.query as Record<string, unknown>), status: 'failed' };
    const unknown = Object.keys(ctx.query).filter((name) => !(EVENT_FILTER_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0) throw new AdminPageError(400, `Unknown filter ${unknown.join(', ')}.`);
    const plan = await deps.reruns.planBulkRerun(filter);
    send(ctx, bulkPlanPage(session(ctx), filter, plan, takeFlash(ctx)));
  });

  router.post('/reruns', async (ctx) => {
    const form = formOf(ctx);
    const filter: Record<string, string> = {};
    for (const [name, value] of form) {
      if (name.startsWith('filter.') && value.length > 0) filter[name.slice('filter.'.length)] = value;
    }
    const job = await deps.reruns.startBulkRerun({ filter, reason: form.get('reason') ?? '', by: session(ctx).name });
    ctx.status = 303;
    ctx.redirect(`/admin/reruns/${job.id}`);
  });

  router.get('/reruns/:id', async (ctx) => {
    const job = await deps.reruns.getBulkRerun(parseBulkJobId(ctx.params.id!));
    send(ctx, bulkJobPage(session(ctx), job, takeFlash(ctx)));
  });

  router.post('/reruns/:id/cancel', async (ctx) => {
    const job = await deps.reruns.cancelBulkRerun(parseBulkJobId(ctx.params.id!), session(ctx).name);
    flash(ctx, { tone: 'ok', text: 'Cancelled: events not reached yet will not be re-run.' });
    ctx.status = 303;
    ctx.redirect(`/admin/reruns/${job.id}`);
  });

  // Outbound deliveries and endpoints (src/outbound/delivery-service.ts, the endpoint store).
  router.get('/deliveries', async (ctx) => {
    const allowedNames = ['status', 'endpoint', 'tenant', 'cursor'];
    const unknown = Object.keys(ctx.query).filter((name) => !allowedNames.includes(name));
    if (unknown.length > 0) throw new AdminPageError(400, `Unknown filter ${unknown.join(', ')}.`);
    const status = optional(ctx.query.status);
    if (status && !(MESSAGE_STATUSES as readonly string[]).includes(status)) {
      throw new AdminPageError(400, `Status must be one of ${MESSAGE_STATUSES.join(', ')}.`);
    }
    const endpoint = optional(ctx.query.endpoint);
    if (endpoint && !ENDPOINT_ID.test(endpoint))
      throw new AdminPageError(400, 'Endpoint ids look like ep_ and 24 hex digits.');
    const filter = { status, endpoint, tenant: optional(ctx.query.tenant), cursor: optional(ctx.query.cursor) };
    const result = await deps.deliveries.list({
      limit: 50,
      ...(status ? { status: status as MessageStatus } : {}),
      ...(endpoint ? { endpointId: endpoint } : {}),
      ...(filter.tenant ? { tenantId: filter.tenant } : {}),
      ...(filter.cursor ? { cursor: filter.cursor } : {}),
    });
    send(ctx, deliveriesPage(session(ctx), filter, result, takeFlash(ctx)));
  });

  router.get('/deliveries/:id', async (ctx) => {
    const delivery = await deps.deliveries.get(messageIdOf(ctx.params.id!));
    send(ctx, deliveryPage(session(ctx), delivery, takeFlash(ctx)));
  });

  router.post('/deliveries/:id/resend', async (ctx) => {
    const result = await deps.deliveries.resend(messageIdOf(ctx.params.id!), session(ctx).name);
    flash(ctx, { tone: 'ok', text: `Resending ${result.messageId} (same webhook-id).` });
    ctx.status = 303;
    ctx.redirect(safeNext(formOf(ctx).get('back') ?? `/admin/deliveries/${result.messageId}`));
  });

  router.get('/endpoints', async (ctx) => {
    send(ctx, endpointsPage(session(ctx), await deps.endpoints.list(), takeFlash(ctx)));
  });

  router.post('/endpoints/:id/:action', async (ctx) => {
    const endpointId = endpointIdOf(ctx.params.id!);
    const who = session(ctx).name;
    let text: string;
    switch (ctx.params.action) {
      case 'disable':
        await deps.endpoints.setEnabled(endpointId, false, `disabled by ${who} on the admin page`);
        text = `Disabled ${endpointId}: queued deliveries are skipped until it is enabled.`;
        break;
      case 'enable':
        await deps.endpoints.setEnabled(endpointId, true);
        text = `Enabled ${endpointId}.`;
        break;
      case 'recover': {
        const since = parseSince(formOf(ctx).get('since') ?? '');
        const result = await deps.deliveries.recover(endpointId, since, who);
        text = `Recovering ${result.resent.length} failed deliver${result.resent.length === 1 ? 'y' : 'ies'} to ${endpointId}${result.skipped.length > 0 ? ` (${result.skipped.length} already under way)` : ''}${result.more ? '; more are left, recover again' : ''}.`;
        break;
      }
      default:
        throw new AdminPageError(404, `There is no endpoint action ${ctx.params.action}.`);
    }
    flash(ctx, { tone: 'ok', text });
    ctx.status = 303;
    ctx.redirect('/admin/endpoints');
  });

  router.get('/cases', async (ctx) => {
    const allowedNames = ['status', 'kind', 'tenant', 'account'];
    const unknown = Object.keys(ctx.query).filter((name) => !allowedNames.includes(name));
    if (unknown.length > 0) throw new AdminPageError(400, `Unknown filter ${unknown.join(', ')}.`);
    const status = optional(ctx.query.status);
    const kind = optional(ctx.query.kind);
    if (status && !(CASE_STATUSES as readonly string[]).includes(status)) {
      throw new AdminPageError(400, `Status must be one of ${CASE_STATUSES.join(', ')}.`);
    }
    if (kind && !(CASE_KINDS as readonly string[]).includes(kind)) {
      throw new AdminPageError(400, `Kind must be one of ${CASE_KINDS.join(', ')}.`);
    }
    const tenant = optional(ctx.query.tenant);
    const account = optional(ctx.query.account);
    if (account && !ACCOUNT_ID_PATTERN.test(account)) {
      throw new AdminPageError(400, 'Account must be a connected account id (acct_…).');
    }
    const cases = await deps.cases.listCases({
      limit: 100,
      ...(status ? { status: status as (typeof CASE_STATUSES)[number] } : {}),
      ...(kind ? { kind: kind as (typeof CASE_KINDS)[number] } : {}),
      ...(tenant ? { tenantId: tenant } : {}),
      ...(account ? { account } : {}),
    });
    send(ctx, casesPage(session(ctx), { status, kind, tenant, account }, cases, takeFlash(ctx)));
  });

  return router;
}

function optional(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.trim().length > 0 ? first.trim() : undefined;
}

function pickFilter(query: Record<string, unknown>): EventsFilter & Record<string, string> {
  const filter: Record<string, string> = {};
  for (const name of EVENT_FILTER_NAMES) {
    const value = optional(query[name] as string | string[] | undefined);
    if (value) filter[name] = value;
  }
  return filter;
}

function messageIdOf(value: string): string {
  if (!MESSAGE_ID.test(value)) throw new AdminPageError(400, `'${value.slice(0, 80)}' is not a delivery id.`);
  return value;
}

function endpointIdOf(value: string): string {
  if (!ENDPOINT_ID.test(value)) throw new AdminPageError(400, `'${value.slice(0, 80)}' is not an endpoint id.`);
  return value;
}

/** Where to go after a form: a path on this admin page only (never another site: open redirects). */
function safeNext(value: string | string[] | undefined): string {
  const next = Array.isArray(value) ? value[0] : value;
  return next && /^\/admin(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/admin/events';
}

/** Every service error as a page status and one sentence; anything unknown is a 500 without details. */
function toPageError(error: unknown): AdminPageError {
  if (error instanceof AdminPageError) return error;
  const status =
    error instanceof InvalidEventQuery ||
    error instanceof InvalidRerunRequest ||
    error instanceof InvalidCursor ||
    error instanceof InvalidSince
      ? 400
      : error instanceof EventNotFound ||
          error instanceof BulkRerunNotFound ||
          error instanceof DeliveryNotFound ||
          error instanceof EndpointNotFound
        ? 404
        : error instanceof AmbiguousEventId ||
            error instanceof RerunRefused ||
            error instanceof BulkRerunRunning ||
            error instanceof NotResendable ||
            error instanceof EndpointDisabled
          ? 409
          : error instanceof BulkRerunRejected
            ? 422
            : null;
  if (status !== null) return new AdminPageError(status, (error as Error).message);
  const httpStatus = (error as { status?: unknown })?.status;
  if (typeof httpStatus === 'number' && httpStatus >= 400 && httpStatus < 500) {
    return new AdminPageError(httpStatus, (error as Error).message);
  }
  throw error;
}
