import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
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
      // The router answers a known path with a wrong method (405) or an unknown method such as
      // PROPFIND or TRACE (501) with a bare status; both become a JSON 405 that keeps its Allow header.
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body == null) {
        const allow = ctx.response.get('Allow');
        throw new AppError(
          405,
          'method_not_allowed',
          `${ctx.method} is not allowed on ${ctx.path}${allow ? `; allowed: ${allow}` : ''}.`,
        );
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

/**
 * Requests Node's HTTP parser refuses before Koa sees them (headers over the size limit, malformed
 * request lines) would get Node's bare text answer; they get the same JSON error shape instead.
 * Attach with `server.on('clientError', answerClientError)`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // As Node's default handler: answer only while no response has started on this connection.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers_too_large', 'The request headers are too large.']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request_timeout', 'The request took too long to arrive.']
        : [400, 'bad_request', 'The request is not valid HTTP.'];
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
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
