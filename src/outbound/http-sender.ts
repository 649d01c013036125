import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { VERSION } from '../version';
import { assertUrlAllowed, pinnedLookup, type AllowList, type GuardOptions } from './ssrf-guard';

/** Standard Webhooks: consumers should answer within 15–30 s; slower counts as a failed attempt. */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Only a diagnostic excerpt of the merchant's answer is kept; the rest is never read. */
export const RESPONSE_BODY_LIMIT_BYTES = 1024;

export interface SignedWebhook {
  url: string;
  /** `webhook-id`: the same for every attempt of a message, so merchants can deduplicate. */
  webhookId: string;
  /** The exact JSON text that is signed and sent. */
  body: string;
  /** `whsec_…` secrets; each one adds a `v1,` signature (several during a rotation). */
  secrets: readonly string[];
  allow: AllowList;
  timeoutMs?: number;
  /** Injected clock and resolver for tests. */
  now?: () => Date;
  guard?: GuardOptions;
}

export interface DeliveryResult {
  /** HTTP status, or null when no response arrived (refused destination, timeout, network error). */
  status: number | null;
  latencyMs: number;
  /** At most RESPONSE_BODY_LIMIT_BYTES of the response, decoded as UTF-8. */
  responseBody: string;
  /** From `Retry-After` (seconds or HTTP date), when the merchant sent one. */
  retryAfterMs?: number;
  error?: string;
}

/**
 * One delivery attempt, never retried here (the deliverWebhook workflow owns the schedule).
 * Signed per Standard Webhooks: `webhook-signature` is `v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
 * re-signed per attempt with a fresh `webhook-timestamp`. The destination is checked again now and
 * the socket pinned to the checked addresses; redirects are not followed (a 3xx is a failure).
 */
export async function sendSignedWebhook(input: SignedWebhook): Promise<DeliveryResult> {
  const started = performance.now();
  const timeoutMs = input.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const elapsed = () => Math.round(performance.now() - started);
  let agent: Agent | undefined;
  // One deadline for the whole attempt, DNS lookup and destination check included.
  const signal = AbortSignal.timeout(timeoutMs);
  let stage: 'lookup' | 'request' = 'lookup';
  try {
    const target = await assertUrlAllowed(input.url, input.allow, { ...input.guard, signal });
    stage = 'request';
    agent = new Agent({ connect: { lookup: pinnedLookup(target), timeout: timeoutMs }, pipelining: 0 });
    const response = await request(target.url, {
      method: 'POST',
      dispatcher: agent,
      headers: signedHeaders(input),
      body: input.body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const responseBody = await readCapped(response.body, RESPONSE_BODY_LIMIT_BYTES);
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], (input.now ?? (() => new Date()))());
    return {
      status: response.statusCode,
      latencyMs: elapsed(),
      responseBody,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(response.statusCode >= 300 && response.statusCode < 400 ? { error: 'redirect not followed' } : {}),
    };
  } catch (error) {
    return { status: null, latencyMs: elapsed(), responseBody: '', error: describeError(error, timeoutMs, stage) };
  } finally {
    // Dropping the agent closes the socket, including one whose body we stopped reading.
    await agent?.destroy().catch(() => undefined);
  }
}

function signedHeaders(input: SignedWebhook): Record<string, string> {
  const timestamp = (input.now ?? (() => new Date()))();
  const signatures = input.secrets.map((secret) => new Webhook(secret).sign(input.webhookId, timestamp, input.body));
  return {
    'content-type': 'application/json',
    'user-agent': `hookflow/${VERSION}`,
    'webhook-id': input.webhookId,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    // Space-separated list of versioned signatures (Standard Webhooks, "Signature scheme").
    'webhook-signature': signatures.join(' '),
  };
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break; // leaving the loop destroys the stream; the agent drops the socket
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, limit));
}

/** `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^[A-Za-z]{3}, /.test(text)) return undefined; // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}

function describeError(error: unknown, timeoutMs: number, stage: 'lookup' | 'request'): string {
  const err = error as { name?: string; code?: string; message?: string; cause?: unknown };
  if (err.name === 'OutboundDestinationRefused') return `${err.name}: ${err.message}`;
  if (stage === 'lookup' && err.name === 'TimeoutError') {
    return `timeout: DNS lookup of the destination did not finish within ${timeoutMs} ms`;
  }
  if (err.name === 'TimeoutError' || err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT') {
    return `timeout: no complete response within ${timeoutMs} ms`;
  }
  if (err.code === 'UND_ERR_CONNECT_TIMEOUT') return `timeout: could not connect within ${timeoutMs} ms`;
  const cause = err.cause as { code?: string; message?: string } | undefined;
  const detail = cause?.code ?? err.code;
  return `${detail ? `${detail}: ` : ''}${err.message ?? String(error)}`;
}
