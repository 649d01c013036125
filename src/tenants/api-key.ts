import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Tenant api keys travel as the `api_key` query parameter because Stripe cannot send custom headers
 * on webhook deliveries. Only a SHA-256 digest is stored: the keys are long random tokens (a short
 * one is refused), so a fast digest is enough and a database dump does not reveal them.
 */

export const API_KEY_MIN_LENGTH = 24;

/** 32 random bytes, url-safe so it can sit in a query string unescaped. */
export function generateApiKey(): string {
  return `hfk_${randomBytes(32).toString('base64url')}`;
}

export function hashApiKey(apiKey: string): string {
  return `sha256:${digest(apiKey).toString('hex')}`;
}

/** Compares digests (always 32 bytes) in constant time, so response timing reveals nothing about the key. */
export function apiKeyMatches(presented: string | undefined, storedHash: string): boolean {
  const expected = Buffer.from(storedHash.replace(/^sha256:/, ''), 'hex');
  const actual = digest(presented ?? '');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
