import type { CaseDoc } from '../stores/case-store';
import { chip, formatTime, html, queryString, type Html } from './html';
import { page, type Notice } from './layout';
import type { AdminSession } from './session';

export interface CasesFilter {
  status?: string;
  kind?: string;
  tenant?: string;
  /** Stripe Connect: one connected account's cases. */
  account?: string;
}

/** Dispute and fraud cases, newest first. */
export function casesPage(session: AdminSession, filter: CasesFilter, cases: CaseDoc[], notice: Notice | null): Html {
  const rows = cases.map(
    (entry) =>
      html`<tr>
        <td class="id">${entry.caseId}</td>
        <td>${entry.kind}</td>
        <td>${chip(entry.status)}</td>
        <td class="id">
          <a href="/admin/events${queryString({ object: entry.stripeObjectId, tenant: entry.tenantId })}"
            >${entry.stripeObjectId}</a
          >
        </td>
        <td class="id">${entry.chargeId ?? '—'}</td>
        <td>
          ${entry.amount === null || entry.amount === undefined ? '—' : `${(entry.amount / 100).toFixed(2)} ${(entry.currency ?? '').toUpperCase()}`}
        </td>
        <td>${entry.reason ?? '—'}</td>
        <td>${formatTime(entry.openedAt)}</td>
        <td>${formatTime(entry.evidenceDueBy)}</td>
        <td>${entry.tenantId}</td>
        <td class="id">${entry.account ?? '—'}</td>
      </tr>`,
  );
  const option = (name: string, current: string | undefined) =>
    html`<option value="${name}" ${name === current ? 'selected' : ''}>${name}</option>`;
  return page(
    { title: 'Cases', session, section: 'cases', notice },
    html`<h1>Cases</h1>
      <form class="filters" method="get" action="/admin/cases">
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${['open', 'won', 'lost', 'closed'].map((s) => option(s, filter.status))}
          </select></label
        >
        <label
          >Kind
          <select name="kind">
            <option value="">any</option>
            ${['dispute', 'fraud'].map((k) => option(k, filter.kind))}
          </select></label
        >
        <label>Tenant <input name="tenant" value="${filter.tenant ?? ''}" placeholder="default" /></label>
        <label>Account <input name="account" value="${filter.account ?? ''}" placeholder="acct_…" /></label>
        <button type="submit">Filter</button>
      </form>
      ${
        rows.length === 0
          ? html`<div class="empty">No cases match.</div>`
          : html`<table>
              <thead>
                <tr>
                  <th>Case</th>
                  <th>Kind</th>
                  <th>Status</th>
                  <th>Stripe object</th>
                  <th>Charge</th>
                  <th>Amount</th>
                  <th>Reason</th>
                  <th>Opened</th>
                  <th>Evidence due</th>
                  <th>Tenant</th>
                  <th>Account</th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>`
      }`,
  );
}
