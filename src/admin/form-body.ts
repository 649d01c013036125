import type { Context } from 'koa';
import { readRawBody } from '../receiver/raw-body';
import { AdminPageError } from './admin-errors';

/** Admin forms carry a reason and a few fields; 64 KiB is plenty. */
const FORM_LIMIT_BYTES = 64 * 1024;

/** The submitted `application/x-www-form-urlencoded` form; any other body is refused. */
export async function readForm(ctx: Context): Promise<URLSearchParams> {
  const raw = await readRawBody(ctx, FORM_LIMIT_BYTES);
  if (raw.length > 0 && !ctx.is('application/x-www-form-urlencoded')) {
    throw new AdminPageError(415, 'Forms are sent as application/x-www-form-urlencoded.');
  }
  return new URLSearchParams(raw.toString('utf8'));
}
