import { html, type Html } from './html';
import type { AdminSession } from './session';

export type Section = 'events' | 'deliveries' | 'endpoints' | 'cases';

const NAV: Array<[Section, string, string]> = [
  ['events', 'Events', '/admin/events'],
  ['deliveries', 'Deliveries', '/admin/deliveries?status=failed'],
  ['endpoints', 'Endpoints', '/admin/endpoints'],
  ['cases', 'Cases', '/admin/cases'],
];

export interface Notice {
  tone: 'ok' | 'bad';
  text: string;
}

export interface PageOptions {
  title: string;
  session: AdminSession | null;
  section?: Section;
  notice?: Notice | null;
  /** Reload the page every few seconds (live progress without scripts). */
  refreshSeconds?: number;
}

/** The frame of every admin page: top bar with the sections, who is signed in, sign out. */
export function page(options: PageOptions, body: Html): Html {
  const { session } = options;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${options.refreshSeconds}" />` : ''}
        <title>${options.title} · hookflow support</title>
        <link rel="stylesheet" href="/admin/assets/admin.css" />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/admin/events">hookflow support</a>
          ${
            session
              ? html`<nav>
                    ${NAV.map(
                      ([section, label, href]) =>
                        html`<a href="${href}" class="${section === options.section ? 'active' : ''}">${label}</a>`,
                    )}
                  </nav>
                  <div class="who">
                    <span>Signed in as <strong>${session.name}</strong></span>
                    <form class="inline" method="post" action="/admin/logout">
                      ${csrfField(session)}
                      <button class="secondary small" type="submit">Sign out</button>
                    </form>
                  </div>`
              : ''
          }
        </header>
        <main>
          ${options.notice ? html`<div class="notice ${options.notice.tone}" role="status">${options.notice.text}</div>` : ''}
          ${body}
        </main>
      </body>
    </html>`;
}

/** The hidden CSRF field every state-changing form carries. */
export function csrfField(session: AdminSession): Html {
  return html`<input type="hidden" name="_csrf" value="${session.csrf}" />`;
}

/** A one-button form that POSTs to `action` (resend, enable, cancel…). */
export function postButton(
  session: AdminSession,
  action: string,
  label: string,
  options: { tone?: 'secondary' | 'danger'; fields?: Record<string, string> } = {},
): Html {
  return html`<form class="inline" method="post" action="${action}">
    ${csrfField(session)}
    ${Object.entries(options.fields ?? {}).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}" />`)}
    <button class="small ${options.tone ?? ''}" type="submit">${label}</button>
  </form>`;
}

/** The message page for a refusal (bad input, expired session, unknown id). */
export function errorPage(session: AdminSession | null, status: number, message: string): Html {
  return page(
    { title: status === 404 ? 'Not found' : 'Refused', session },
    html`<h1>${status === 404 ? 'Not found' : 'That did not work'}</h1>
      <div class="notice bad">${message}</div>
      <p><a href="/admin/events">Back to events</a>${session ? '' : html` · <a href="/admin/login">Sign in</a>`}</p>`,
  );
}
