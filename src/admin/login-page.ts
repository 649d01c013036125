import { html, type Html } from './html';
import { page, type Notice } from './layout';
import { MAX_NAME_LENGTH } from './session';

/** Sign in with the admin token and a display name (recorded on every re-run and resend). */
export function loginPage(options: { loginToken: string; next: string; name?: string; notice?: Notice | null }): Html {
  return page(
    { title: 'Sign in', session: null, notice: options.notice ?? null },
    html`<div class="login panel">
      <h1>Sign in</h1>
      <p class="muted">Support desk for Stripe events, re-runs and merchant deliveries.</p>
      <form method="post" action="/admin/login">
        <input type="hidden" name="_csrf" value="${options.loginToken}" />
        <input type="hidden" name="next" value="${options.next}" />
        <label for="name">Your name</label>
        <input
          id="name"
          name="name"
          required
          maxlength="${MAX_NAME_LENGTH}"
          autocomplete="name"
          value="${options.name ?? ''}"
          placeholder="Shown on every re-run you make"
        />
        <label for="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          required
          autocomplete="current-password"
          placeholder="HOOKFLOW_ADMIN_TOKEN"
        />
        <button type="submit">Sign in</button>
      </form>
    </div>`,
  );
}
