import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a sign-in lasts: a support shift. */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** How long the sign-in form stays valid after it was shown. */
const LOGIN_FORM_TTL_MS = 30 * 60 * 1000;
export const SESSION_COOKIE = 'hookflow_admin';
export const LOGIN_COOKIE = 'hookflow_admin_login';
export const MAX_NAME_LENGTH = 60;

export interface AdminSession {
  /** The display name support typed at sign-in: recorded as "who" on re-runs and resends. */
  name: string;
  /** Per-session CSRF token, echoed by every state-changing form. */
  csrf: string;
  expiresAt: number;
}

/**
 * Signed, stateless sessions for the admin page. The cookie holds `{name, csrf, expiry}` and an
 * HMAC-SHA256 over it, keyed by a key derived from HOOKFLOW_ADMIN_TOKEN: nothing is stored server
 * side, any receiver replica accepts it, and changing the token signs everyone out. The cookie is
 * HttpOnly and SameSite=Strict; each state-changing form also carries the session's CSRF token
 * (synchronizer token, OWASP CSRF cheat sheet), compared in constant time.
 */
export function createSessionSigner(adminToken: string) {
  const key = createHmac('sha256', adminToken).update('hookflow-admin-session-v1').digest();
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');

  function seal(value: unknown): string {
    const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${payload}.${sign(payload)}`;
  }

  function open(cookie: string | undefined): unknown {
    if (!cookie) return null;
    const [payload, signature, ...rest] = cookie.split('.');
    if (!payload || !signature || rest.length > 0 || !sameText(signature, sign(payload))) return null;
    try {
      return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    } catch {
      return null;
    }
  }

  return {
    /** A new session cookie value for a signed-in name. */
    issue(name: string, now = Date.now()): { cookie: string; session: AdminSession } {
      const session: AdminSession = {
        name,
        csrf: randomBytes(24).toString('base64url'),
        expiresAt: now + SESSION_TTL_MS,
      };
      return { cookie: seal({ n: session.name, c: session.csrf, e: session.expiresAt }), session };
    },

    /** The session of a cookie, or null when it is missing, tampered with or expired. */
    read(cookie: string | undefined, now = Date.now()): AdminSession | null {
      const value = open(cookie) as { n?: unknown; c?: unknown; e?: unknown } | null;
      if (!value || typeof value.n !== 'string' || typeof value.c !== 'string' || typeof value.e !== 'number') {
        return null;
      }
      if (value.e <= now) return null;
      return { name: value.n, csrf: value.c, expiresAt: value.e };
    },

    /** The sign-in form's own CSRF token (there is no session yet): a signed, short-lived cookie. */
    issueLoginToken(now = Date.now()): { cookie: string; token: string } {
      const token = randomBytes(24).toString('base64url');
      return { cookie: seal({ t: token, e: now + LOGIN_FORM_TTL_MS }), token };
    },

    checkLoginToken(cookie: string | undefined, submitted: string | null, now = Date.now()): boolean {
      const value = open(cookie) as { t?: unknown; e?: unknown } | null;
      if (!value || typeof value.t !== 'string' || typeof value.e !== 'number' || value.e <= now) return false;
      return submitted !== null && sameText(submitted, value.t);
    },

    /** A one-time notice for the next page (after a redirect), signed so no other site can plant one. */
    issueFlash(notice: { tone: 'ok' | 'bad'; text: string }): string {
      return seal({ f: notice.tone, x: notice.text.slice(0, 500) });
    },

    readFlash(cookie: string | undefined): { tone: 'ok' | 'bad'; text: string } | null {
      const value = open(cookie) as { f?: unknown; x?: unknown } | null;
      if (!value || (value.f !== 'ok' && value.f !== 'bad') || typeof value.x !== 'string') return null;
      return { tone: value.f, text: value.x };
    },

    /** The admin token, compared in constant time whatever its length. */
    checkAdminToken(submitted: string): boolean {
      const digest = (text: string) => createHmac('sha256', key).update(`token:${text}`).digest();
      return timingSafeEqual(digest(submitted), digest(adminToken));
    },
  };
}

export type SessionSigner = ReturnType<typeof createSessionSigner>;

/** Constant-time comparison of two strings of any length. */
export function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
