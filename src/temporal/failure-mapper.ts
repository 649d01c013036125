import { ApplicationFailure } from '@temporalio/common';

/**
 * The one place an HTTP client's error becomes a Temporal failure (house style rule 6): Temporal
 * owns retries, so activities never loop; this decides whether and when the next attempt happens.
 *
 * - 429 → retryable `<Service>RateLimited`, `nextRetryDelay` from `Retry-After`;
 * - 408, 5xx and no response at all (network, DNS, timeout) → retryable `<Service>Unavailable`;
 * - any other 4xx → non-retryable `<Service>RequestRejected`: repeating the same request cannot
 *   succeed, a person has to fix the cause and re-run the event.
 *
 * The failure `type` strings are load-bearing: the Temporal UI shows them, retry policies may list
 * them in `nonRetryableErrorTypes`, and the workflow records `<type>: <message>` on the event.
 */

export interface FailureContext {
  /** Vendor prefix of the failure type: `Clerk` → `ClerkRateLimited`. */
  service: string;
  /** What was being done, for the message: `updating metadata of organization org_123`. */
  action: string;
  /** Clock for HTTP-date `Retry-After` values; tests pin it. */
  now?: () => number;
}

/** A `Retry-After` beyond this is treated as this: the activity's retry policy still applies. */
export const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export function toApplicationFailure(error: unknown, context: FailureContext): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const status = statusOf(error);
  const detail = describe(error);
  const retryAfterMs = retryAfterOf(error, context.now ?? Date.now);

  if (status === 429) {
    return ApplicationFailure.create({
      type: `${context.service}RateLimited`,
      message: `429 rate limited while ${context.action}${detail}`,
      nextRetryDelay: retryAfterMs,
    });
  }
  if (status === undefined || status === 408 || status >= 500) {
    const what = status === undefined ? 'no response' : String(status);
    return ApplicationFailure.create({
      type: `${context.service}Unavailable`,
      message: `${what} while ${context.action}${detail}`,
      // A 503 may carry Retry-After too (RFC 9110 §10.2.3).
      nextRetryDelay: retryAfterMs,
    });
  }
  if (status >= 400) {
    return ApplicationFailure.create({
      type: `${context.service}RequestRejected`,
      message: `${status} while ${context.action}${detail}`,
      nonRetryable: true,
    });
  }
  return ApplicationFailure.create({
    type: `${context.service}UnexpectedResponse`,
    message: `${status} while ${context.action}${detail}`,
  });
}

/** Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), in ms, capped. */
export function parseRetryAfter(value: string | number | null | undefined, now: () => number = Date.now) {
  if (value === null || value === undefined || value === '') return undefined;
  let ms: number;
  if (typeof value === 'number' || /^\s*\d+\s*$/.test(value)) {
    ms = Number(value) * 1000;
  } else {
    const at = Date.parse(value);
    if (Number.isNaN(at)) return undefined;
    ms = at - now();
  }
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

type Loose = Record<string, unknown>;

function asObject(value: unknown): Loose | undefined {
  return value !== null && typeof value === 'object' ? (value as Loose) : undefined;
}

/** `status` (Clerk's ClerkAPIResponseError, fetch Response), `statusCode` (stripe-node, undici) or `response.status`. */
function statusOf(error: unknown): number | undefined {
  const object = asObject(error);
  const candidates = [object?.status, object?.statusCode, asObject(object?.response)?.status];
  return candidates.find((value): value is number => typeof value === 'number' && value >= 100 && value < 600);
}

function retryAfterOf(error: unknown, now: () => number): number | undefined {
  const object = asObject(error);
  // @clerk/backend parses the header into `retryAfter` (whole seconds) on ClerkAPIResponseError.
  if (typeof object?.retryAfter === 'number' || typeof object?.retryAfter === 'string') {
    return parseRetryAfter(object.retryAfter, now);
  }
  const headers = object?.headers ?? asObject(object?.response)?.headers;
  if (headers && typeof (headers as Headers).get === 'function') {
    return parseRetryAfter((headers as Headers).get('retry-after'), now);
  }
  const record = asObject(headers);
  const value = record?.['retry-after'] ?? record?.['Retry-After'];
  return typeof value === 'string' || typeof value === 'number' ? parseRetryAfter(value, now) : undefined;
}

/**
 * Error codes and short messages only: response bodies may echo personal data (Clerk's error
 * `meta` can list email addresses), and this text lands in workflow history and the event ledger.
 */
function describe(error: unknown): string {
  const object = asObject(error);
  const apiErrors = Array.isArray(object?.errors) ? (object.errors as unknown[]) : [];
  const parts = apiErrors
    .map(asObject)
    .filter((entry): entry is Loose => entry !== undefined)
    .map((entry) => [entry.code, entry.message].filter((part) => typeof part === 'string' && part).join(' '))
    .filter((part) => part.length > 0);
  if (parts.length === 0 && error instanceof Error && error.message) parts.push(error.message.split('\n')[0]!);
  const text = parts.join('; ').slice(0, 300);
  return text ? ` (${text})` : '';
}
