import type { Context } from 'koa';
import { AppError } from '../errors';
import { readRawBody } from './raw-body';

/** Support API bodies are a few fields; anything bigger is a mistake. */
const JSON_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * The request's JSON object body; an empty body is `{}`. Anything else (an array, a string, bad
 * JSON, another content type) is a 400 saying what to send.
 */
export async function readJsonObject(ctx: Context): Promise<Record<string, unknown>> {
  const raw = await readRawBody(ctx, JSON_BODY_LIMIT_BYTES);
  if (raw.length === 0) return {};
  if (!ctx.is('application/json')) {
    throw new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError(400, 'invalid_json', 'The body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppError(400, 'invalid_json', 'The body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** Refuses body fields a route does not read, as `onlyQuery` does for the query string. */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw new AppError(
      400,
      'unknown_field',
      `Unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `'${name}'`).join(', ')}: this route accepts ${allowed.length > 0 ? allowed.join(', ') : 'no fields'}.`,
    );
  }
}
