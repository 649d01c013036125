import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { AppError } from '../errors';

/**
 * Reads the exact request bytes (signatures are computed over them, so nothing may parse or
 * re-encode the body first). Used on the webhook route only.
 */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = ctx.request.length;
  if (declared !== undefined && declared > limitBytes) throw tooLarge(limitBytes);
  try {
    return await getRawBody(ctx.req, { length: declared, limit: limitBytes });
  } catch (error) {
    if ((error as { type?: string }).type === 'entity.too.large') throw tooLarge(limitBytes);
    throw new AppError(400, 'unreadable_body', 'The request body could not be read completely.');
  }
}

function tooLarge(limitBytes: number): AppError {
  return new AppError(413, 'body_too_large', `The body exceeds the ${limitBytes}-byte limit.`);
}
