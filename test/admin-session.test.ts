import assert from 'node:assert/strict';
import { escapeHtml, html } from '../src/admin/html';
import { createSessionSigner, SESSION_TTL_MS } from '../src/admin/session';

const TOKEN = 'admin-token-for-session-unit-tests';

describe('admin page sessions and escaping', () => {
  const signer = createSessionSigner(TOKEN);

  it('reads back a session it issued, and refuses a tampered, foreign or expired cookie', () => {
    const now = Date.now();
    const { cookie, session } = signer.issue('Ana <support>', now);
    assert.deepEqual(signer.read(cookie, now), session);
    assert.ok(!cookie.includes(TOKEN), 'the cookie does not carry the admin token');

    const [payload, signature] = cookie.split('.');
    const forged = Buffer.from(JSON.stringify({ n: 'Mallory', c: session.csrf, e: session.expiresAt })).toString(
      'base64url',
    );
    assert.equal(signer.read(`${forged}.${signature}`, now), null, 'a changed payload fails the signature');
    assert.equal(signer.read(`${payload}.${signature}x`, now), null);
    assert.equal(signer.read(undefined, now), null);
    assert.equal(createSessionSigner('another-admin-token-entirely').read(cookie, now), null, 'a new token signs out');
    assert.equal(signer.read(cookie, now + SESSION_TTL_MS + 1), null, 'expired');
  });

  it('checks the sign-in form token and the admin token in constant time', () => {
    const login = signer.issueLoginToken();
    assert.equal(signer.checkLoginToken(login.cookie, login.token), true);
    assert.equal(signer.checkLoginToken(login.cookie, 'guess'), false);
    assert.equal(signer.checkLoginToken(login.cookie, null), false);
    assert.equal(signer.checkAdminToken(TOKEN), true);
    assert.equal(signer.checkAdminToken(`${TOKEN}x`), false);
    assert.equal(signer.checkAdminToken(''), false);
  });

  it('escapes every interpolated value unless it is already html', () => {
    const payload = `<script>alert("x")</script>&'`;
    assert.equal(escapeHtml(payload), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    const inner = html`<b>${payload}</b>`;
    assert.equal(
      html`<p title="${payload}">${inner}</p>`.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</b></p>',
    );
  });
});
