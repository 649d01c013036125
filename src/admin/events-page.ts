import type { EventListItem, EventPage } from '../support/event-queries';
import { chip, formatTime, html, queryString, type Html } from './html';
import { page, type Notice } from './layout';
import type { AdminSession } from './session';

/** The list filters, as the query string carries them (same names as `GET /api/events`). */
export interface EventsFilter {
  status?: string;
  type?: string;
  object?: string;
  customer?: string;
  account?: string;
  tenant?: string;
  since?: string;
  until?: string;
}

export const EVENT_FILTER_NAMES = [
  'status',
  'type',
  'object',
  'customer',
  'account',
  'tenant',
  'since',
  'until',
] as const;

const STATUSES = ['failed', 'processed', 'processing', 'received'];

/** Events newest first, filterable, with the failure reason in the row; bulk re-run of the failed ones. */
export function eventsPage(
  session: AdminSession,
  filter: EventsFilter,
  result: EventPage,
  notice: Notice | null,
): Html {
  const input = (name: keyof EventsFilter, label: string, placeholder: string) =>
    html`<label>${label} <input name="${name}" value="${filter[name] ?? ''}" placeholder="${placeholder}" /></label>`;
  return page(
    { title: 'Events', session, section: 'events', notice },
    html`<h1>Stripe events</h1>
      <form class="filters" method="get" action="/admin/events">
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${STATUSES.map((status) => html`<option value="${status}" ${status === filter.status ? 'selected' : ''}>${status}</option>`)}
          </select></label
        >
        ${input('type', 'Type', 'charge.dispute.*')} ${input('object', 'Object id', 'dp_…, ch_…')}
        ${input('customer', 'Customer', 'cus_…')} ${input('account', 'Account', 'acct_…')}
        ${input('tenant', 'Tenant', 'all')} ${input('since', 'Since', '2h, 7d or 2026-11-01')}
        ${input('until', 'Until', '')}
        <button type="submit">Filter</button>
        <a class="button secondary" href="/admin/events">Clear</a>
      </form>
      ${
        filter.status === 'failed' && result.events.length > 0
          ? html`<div class="panel actions">
              <span>Fixed the cause? Re-run every failed event that matches these filters.</span>
              <a class="button" href="/admin/reruns/plan${queryString({ ...filter })}">Plan a bulk re-run…</a>
            </div>`
          : ''
      }
      ${
        result.events.length === 0
          ? html`<div class="empty">No events match these filters.</div>`
          : html`<table>
              <thead>
                <tr>
                  <th>Event</th>
                  <th>Type</th>
                  <th>Status</th>
                  <th>Outcome / failure reason</th>
                  <th>Object</th>
                  <th>Customer</th>
                  <th>Tenant</th>
                  <th>Received</th>
                  <th>Runs</th>
                </tr>
              </thead>
              <tbody>
                ${result.events.map(row)}
              </tbody>
            </table>`
      }
      ${
        result.nextCursor
          ? html`<div class="pager">
              <a class="button secondary" href="/admin/events${queryString({ ...filter, cursor: result.nextCursor })}"
                >Older →</a
              >
            </div>`
          : ''
      }`,
  );
}

function row(event: EventListItem): Html {
  return html`<tr>
    <td class="id">
      <a href="/admin/events/${event.eventId}${queryString({ tenant: event.tenantId })}">${event.eventId}</a>
    </td>
    <td>${event.type}</td>
    <td>${chip(event.status)}</td>
    ${
      event.status === 'failed'
        ? html`<td class="reason">${failureText(event)}</td>`
        : html`<td>
            ${event.outcome ?? ''}${event.reason ? html` <span class="muted">— ${event.reason}</span>` : ''}
          </td>`
    }
    <td class="id">${event.objectId ?? '—'}</td>
    <td class="id">${event.customerId ?? '—'}</td>
    <td>${event.tenantId}</td>
    <td>${formatTime(event.receivedAt)}</td>
    <td>${event.attempts}</td>
  </tr>`;
}

/** `ClerkRequestFailed: Clerk answered 404 …`, or the reason alone. */
export function failureText(event: Pick<EventListItem, 'error' | 'reason'>): string {
  if (event.error) return event.error.type ? `${event.error.type}: ${event.error.message}` : event.error.message;
  return event.reason ?? 'failed (no reason recorded)';
}
