import Router from '@koa/router';
import type { Middleware } from 'koa';
import { createHash, timingSafeEqual } from 'node:crypto';
import { CASE_KINDS, CASE_STATUSES, type CaseKind, type CaseStatus, type CaseStore } from '../stores/case-store';
import type { PaymentSessionStore } from '../stores/payment-session-store';
import { AppError } from '../errors';
import { ACCOUNT_ID_PATTERN } from '../support/event-queries';

export interface AdminApiDeps {
  cases: CaseStore;
  paymentSessions: PaymentSessionStore;
  /** `HOOKFLOW_ADMIN_TOKEN`; null disables the API (every `/api/*` route answers 404 saying so). */
  adminToken: string | null;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
const CASE_FILTERS = ['tenant', 'status', 'kind', 'chargeId', 'account', 'limit'] as const;

/**
 * Read-only API for support tooling: `GET /api/cases`, `GET /api/cases/:id`, `GET /api/sessions/:id`,
 * each optionally narrowed with `?tenant=`. Bearer-token protected (RFC 6750).
 */
export function createAdminApiRouter(deps: AdminApiDeps): Router {
  const { cases, paymentSessions } = deps;
  const router = new Router({ prefix: '/api' });
  router.use(requireAdminToken(deps.adminToken));

  router.get('/cases', onlyQuery(CASE_FILTERS), async (ctx) => {
    const found = await cases.listCases({
      tenantId: single(ctx.query.tenant),
      status: enumValue<CaseStatus>('status', ctx.query.status, CASE_STATUSES),
      kind: enumValue<CaseKind>('kind', ctx.query.kind, CASE_KINDS),
      chargeId: single(ctx.query.chargeId),
      account: accountOf(ctx.query.account),
      limit: limitOf(ctx.query.limit),
    });
    ctx.body = { cases: found.map(view) };
  });

  router.get('/cases/:id', onlyQuery(['tenant']), async (ctx) => {
    const found = await cases.getCase(ctx.params.id, single(ctx.query.tenant));
    if (!found) throw new AppError(404, 'case_not_found', `No case ${ctx.params.id}.`);
    ctx.body = { case: view(found) };
  });

  router.get('/sessions/:id', onlyQuery(['tenant']), async (ctx) => {
    const found = await paymentSessions.getSession(ctx.params.id, single(ctx.query.tenant));
    if (!found) throw new AppError(404, 'session_not_found', `No payment session ${ctx.params.id}.`);
    ctx.body = { session: view(found) };
  });

  return router;
}

/** A connected account id (`acct_…`), or a 400 saying so. */
function accountOf(value: string | string[] | undefined): string | undefined {
  const account = single(value);
  if (account !== undefined && !ACCOUNT_ID_PATTERN.test(account)) {
    throw new AppError(400, 'bad_request', 'account must be a connected account id (acct_…).');
  }
  return account;
}

export function requireAdminToken(adminToken: string | null): Middleware {
  const expected = adminToken ? digest(adminToken) : null;
  return async (ctx, next) => {
    if (!expected) {
      throw new AppError(
        404,
        'admin_api_disabled',
        'The admin API is disabled: set HOOKFLOW_ADMIN_TOKEN to enable it.',
      );
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    // Comparing fixed-length digests keeps the comparison constant-time whatever the token length.
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer realm="hookflow-admin"');
      throw new AppError(401, 'unauthorized', 'Send Authorization: Bearer <HOOKFLOW_ADMIN_TOKEN>.');
    }
    await next();
  };
}

/**
 * Refuses query parameters a route does not read: an ignored filter (`?customer=…`) would answer
 * with every record, which looks like a match.
 */
export function onlyQuery(allowed: readonly string[]): Middleware {
  return async (ctx, next) => {
    const unknown = Object.keys(ctx.query).filter((name) => !allowed.includes(name));
    if (unknown.length > 0) {
      throw new AppError(
        400,
        'unknown_query_parameter',
        `Unknown query parameter${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `'${name}'`).join(', ')}: this route accepts ${allowed.join(', ')}.`,
      );
    }
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function single(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first && first.length > 0 ? first : undefined;
}

function enumValue<T extends string>(
  name: string,
  value: string | string[] | undefined,
  allowed: readonly T[],
): T | undefined {
  const wanted = single(value);
  if (wanted === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(wanted)) {
    throw new AppError(400, 'bad_request', `${name} must be one of ${allowed.join(', ')}.`);
  }
  return wanted as T;
}

export function limitOf(value: string | string[] | undefined): number {
  const raw = single(value);
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new AppError(400, 'bad_request', `limit must be an integer from 1 to ${MAX_LIMIT}.`);
  }
  return limit;
}

interface HistoryEntry {
  eventId: string;
  created: number;
}

/** The stored record without Mongo's `_id`, history in Stripe's event order. */
function view<T extends { _id?: unknown; history?: HistoryEntry[] }>(doc: T): Omit<T, '_id'> {
  const { _id, ...rest } = doc; // eslint-disable-line @typescript-eslint/no-unused-vars
  if (!rest.history) return rest;
  const history = [...rest.history].sort((a, b) => a.created - b.created || a.eventId.localeCompare(b.eventId));
  return { ...rest, history };
}
