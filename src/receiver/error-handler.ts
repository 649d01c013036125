import type { Middleware } from 'koa';
import { AppError } from '../errors';
import type { Logger } from '../logger';

/**
 * First middleware: every failure becomes `{"error":{"code","message"}}`. Only AppErrors marked
 * `expose` show their message; anything else is a 500 "internal error", logged with context.
 */
export function errorHandler(log: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError(404, 'not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) {
        log.error({ err: error, path: ctx.path, eventId: ctx.state.eventId }, 'request failed');
      }
      ctx.status = appError.status;
      ctx.body = { error: { code: appError.code, message: appError.expose ? appError.message : 'internal error' } };
    }
  };
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  // raw-body and koa's own HTTP errors carry a status; keep client errors honest.
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'bad request';
    return new AppError(status, status === 413 ? 'body_too_large' : 'bad_request', message);
  }
  return new AppError(500, 'internal_error', 'internal error', false);
}
