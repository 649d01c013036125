import type { AttemptView, DeliveryView } from '../outbound/delivery-service';
import { chip, formatTime, html, queryString, type Html } from './html';
import { page, postButton, type Notice } from './layout';
import type { AdminSession } from './session';

export interface DeliveriesFilter {
  status?: string;
  endpoint?: string;
  tenant?: string;
  cursor?: string;
}

const STATUSES = ['failed', 'skipped', 'pending', 'delivering', 'delivered'];

/** Outbound messages, failed ones by default, each failed or skipped one with a Resend button. */
export function deliveriesPage(
  session: AdminSession,
  filter: DeliveriesFilter,
  result: { deliveries: DeliveryView[]; nextCursor: string | null },
  notice: Notice | null,
): Html {
  const rows = result.deliveries.map(
    (delivery) =>
      html`<tr>
        <td class="id"><a href="/admin/deliveries/${delivery.messageId}">${delivery.messageId}</a></td>
        <td>${delivery.type}</td>
        <td class="id">${delivery.endpointId}</td>
        <td class="id">${delivery.stripeEventId}</td>
        <td>${chip(delivery.status)}</td>
        <td>${delivery.attempts}</td>
        <td class="reason">${delivery.status === 'delivered' ? '' : (delivery.lastError ?? '')}</td>
        <td>${formatTime(delivery.updatedAt)}</td>
        <td>
          ${
            ['failed', 'skipped'].includes(delivery.status)
              ? postButton(session, `/admin/deliveries/${delivery.messageId}/resend`, 'Resend', {
                  fields: { back: `/admin/deliveries${queryString({ ...filter, cursor: undefined })}` },
                })
              : ''
          }
        </td>
      </tr>`,
  );
  return page(
    { title: 'Deliveries', session, section: 'deliveries', notice },
    html`<h1>Merchant deliveries</h1>
      <form class="filters" method="get" action="/admin/deliveries">
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${STATUSES.map((status) => html`<option value="${status}" ${status === filter.status ? 'selected' : ''}>${status}</option>`)}
          </select></label
        >
        <label>Endpoint <input name="endpoint" value="${filter.endpoint ?? ''}" placeholder="ep_…" /></label>
        <label>Tenant <input name="tenant" value="${filter.tenant ?? ''}" placeholder="default" /></label>
        <button type="submit">Filter</button>
      </form>
      ${
        rows.length === 0
          ? html`<div class="empty">No deliveries match these filters.</div>`
          : html`<table>
              <thead>
                <tr>
                  <th>Webhook id</th>
                  <th>Type</th>
                  <th>Endpoint</th>
                  <th>Stripe event</th>
                  <th>Status</th>
                  <th>Attempts</th>
                  <th>Last error</th>
                  <th>Updated</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }
      ${
        result.nextCursor
          ? html`<div class="pager">
              <a
                class="button secondary"
                href="/admin/deliveries${queryString({ ...filter, cursor: result.nextCursor })}"
                >Older →</a
              >
            </div>`
          : ''
      }`,
  );
}

/** One delivery with every attempt and the merchant's answers. */
export function deliveryPage(
  session: AdminSession,
  delivery: DeliveryView & { attemptLog: AttemptView[] },
  notice: Notice | null,
): Html {
  return page(
    { title: delivery.messageId, session, section: 'deliveries', notice },
    html`<h1>Delivery <span class="mono">${delivery.messageId}</span> ${chip(delivery.status)}</h1>
      <div class="panel">
        <dl class="facts">
          <dt>Type</dt>
          <dd>${delivery.type}</dd>
          <dt>webhook-id</dt>
          <dd class="mono">${delivery.messageId} (the same on every attempt and resend)</dd>
          <dt>Endpoint</dt>
          <dd class="mono">${delivery.endpointId}</dd>
          <dt>Stripe event</dt>
          <dd class="mono">
            <a href="/admin/events/${delivery.stripeEventId}${queryString({ tenant: delivery.tenantId })}"
              >${delivery.stripeEventId}</a
            >
          </dd>
          <dt>Tenant</dt>
          <dd>${delivery.tenantId}</dd>
          <dt>Last error</dt>
          <dd>${delivery.lastError ?? '—'}</dd>
          <dt>Temporal workflow</dt>
          <dd class="mono">${delivery.workflowId}</dd>
          <dt>Resent</dt>
          <dd>
            ${
              delivery.resends.length === 0
                ? 'never'
                : delivery.resends.map(
                    (entry) => html`<div>${formatTime(entry.at)} by ${entry.by} (${entry.trigger})</div>`,
                  )
            }
          </dd>
        </dl>
        ${
          ['failed', 'skipped'].includes(delivery.status)
            ? html`<p>
                ${postButton(session, `/admin/deliveries/${delivery.messageId}/resend`, 'Resend', {
                  fields: { back: `/admin/deliveries/${delivery.messageId}` },
                })}
              </p>`
            : ''
        }
      </div>
      <h2>Attempts</h2>
      ${attemptsTable(delivery.attemptLog)}`,
  );
}

export function attemptsTable(attempts: AttemptView[]): Html {
  if (attempts.length === 0) return html`<div class="empty">No attempt yet.</div>`;
  return html`<table>
    <thead>
      <tr>
        <th>#</th>
        <th>At</th>
        <th>HTTP status</th>
        <th>Latency</th>
        <th>Error</th>
        <th>Merchant answered</th>
      </tr>
    </thead>
    <tbody>
      ${attempts.map(
        (attempt) =>
          html`<tr>
            <td>${attempt.attempt}</td>
            <td>${formatTime(attempt.at)}</td>
            <td>${attempt.statusCode ?? 'no response'}</td>
            <td>${attempt.latencyMs} ms</td>
            <td class="reason">${attempt.error ?? ''}</td>
            <td class="mono">${attempt.responseBody.slice(0, 200)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
