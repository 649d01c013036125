import type { EndpointView } from '../stores/endpoint-store';
import { chip, formatTime, html, type Html } from './html';
import { csrfField, page, postButton, type Notice } from './layout';
import type { AdminSession } from './session';

/** Merchant endpoints with disable / enable, and "recover failed deliveries since …". */
export function endpointsPage(session: AdminSession, endpoints: EndpointView[], notice: Notice | null): Html {
  const rows = endpoints.map(
    (endpoint) =>
      html`<tr>
        <td class="id">${endpoint.endpointId}</td>
        <td>${endpoint.tenantId}</td>
        <td class="mono">${endpoint.url}</td>
        <td>${endpoint.eventTypes.join(', ')}</td>
        <td>
          ${chip(endpoint.enabled ? 'enabled' : 'disabled')}${
            endpoint.disabledReason ? html`<div class="muted">${endpoint.disabledReason}</div>` : ''
          }
        </td>
        <td>${formatTime(endpoint.createdAt)}</td>
        <td>
          <div class="actions">
            <a class="button secondary small" href="/admin/deliveries?status=failed&amp;endpoint=${endpoint.endpointId}"
              >Failed deliveries</a
            >
            ${
              endpoint.enabled
                ? postButton(session, `/admin/endpoints/${endpoint.endpointId}/disable`, 'Disable', { tone: 'danger' })
                : postButton(session, `/admin/endpoints/${endpoint.endpointId}/enable`, 'Enable')
            }
            <form class="inline" method="post" action="/admin/endpoints/${endpoint.endpointId}/recover">
              ${csrfField(session)}
              <select name="since" aria-label="Recover failures since">
                <option value="1h">last hour</option>
                <option value="6h">last 6 hours</option>
                <option value="24h" selected>last 24 hours</option>
                <option value="7d">last 7 days</option>
              </select>
              <button class="small" type="submit">Recover</button>
            </form>
          </div>
        </td>
      </tr>`,
  );
  return page(
    { title: 'Endpoints', session, section: 'endpoints', notice },
    html`<h1>Merchant endpoints</h1>
      <p class="muted">
        Disable stops deliveries (queued messages are skipped). Recover resends every delivery to the endpoint that
        failed in the chosen window, with the same webhook-id.
      </p>
      ${
        rows.length === 0
          ? html`<div class="empty">No endpoints registered (<span class="mono">hookflow endpoints add</span>).</div>`
          : html`<table>
              <thead>
                <tr>
                  <th>Endpoint</th>
                  <th>Tenant</th>
                  <th>URL</th>
                  <th>Event types</th>
                  <th>State</th>
                  <th>Created</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }`,
  );
}
