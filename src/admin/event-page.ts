import type { AttemptView, DeliveryView } from '../outbound/delivery-service';
import type { EventDetail } from '../support/event-queries';
import { attemptsTable } from './deliveries-page';
import { failureText } from './events-page';
import { chip, formatTime, html, queryString, type Html } from './html';
import { csrfField, page, postButton, type Notice } from './layout';
import type { AdminSession } from './session';

const MAX_REASON_LENGTH = 1_000;

/**
 * One event: summary, Re-run (a reason is required), Temporal link, payload (escaped, in a <pre>),
 * object state, cases, outbound deliveries with every attempt, and the re-run history. While the
 * event is not finished the page reloads itself, so a re-run is seen turning processed.
 */
export function eventPage(session: AdminSession, detail: EventDetail, notice: Notice | null): Html {
  const { event, temporal } = detail;
  const unfinished = event.status === 'received' || event.status === 'processing';
  const self = `/admin/events/${event.eventId}${queryString({ tenant: event.tenantId })}`;
  return page(
    { title: event.eventId, session, section: 'events', notice, refreshSeconds: unfinished ? 2 : undefined },
    html`<h1>${event.type} <span class="mono">${event.eventId}</span> ${chip(event.status)}</h1>
      <div class="grid2">
        <div class="panel">
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              ${chip(event.status)} ${event.outcome ? html`<span class="muted">outcome ${event.outcome}</span>` : ''}
            </dd>
            ${
              event.status === 'failed'
                ? html`<dt>Why it failed</dt>
                    <dd class="reason">${failureText(event)}</dd>`
                : ''
            }
            ${
              event.status !== 'failed' && event.reason
                ? html`<dt>Reason</dt>
                    <dd>${event.reason}</dd>`
                : ''
            }
            <dt>Tenant</dt>
            <dd>${event.tenantId}</dd>
            <dt>Object</dt>
            <dd class="mono">${event.objectId ?? '—'}</dd>
            <dt>Customer</dt>
            <dd class="mono">${event.customerId ?? '—'}</dd>
            ${
              event.account
                ? html`<dt>Account</dt>
                    <dd class="mono">${event.account}</dd>`
                : ''
            }
            <dt>Mode</dt>
            <dd>${event.livemode ? 'live' : 'test'}</dd>
            <dt>Received</dt>
            <dd>
              ${formatTime(event.receivedAt)}${event.lastReceivedAt !== event.receivedAt ? html` <span class="muted">(last ${formatTime(event.lastReceivedAt)})</span>` : ''}
            </dd>
            <dt>Processed</dt>
            <dd>${formatTime(event.processedAt)}</dd>
            <dt>Runs</dt>
            <dd>${event.attempts}</dd>
            <dt>Workflow</dt>
            <dd class="mono">
              ${temporal.workflowId}${temporal.runId ? html`<br /><span class="muted">run ${temporal.runId}</span>` : ''}
            </dd>
          </dl>
          ${
            temporal.uiUrl
              ? html`<p>
                  <a class="button secondary" href="${temporal.uiUrl}" target="_blank" rel="noopener noreferrer"
                    >Open in Temporal UI ↗</a
                  >
                </p>`
              : ''
          }
        </div>
        <div class="panel">
          <h2>Re-run this event</h2>
          ${rerunForm(session, event, self)}
        </div>
      </div>

      <h2>Payload</h2>
      <pre class="json">${event.payload}</pre>

      <h2>Object state</h2>
      ${detail.objectState ? html`<pre class="json">${JSON.stringify(detail.objectState, null, 2)}</pre>` : html`<div class="empty">No stored state for this object.</div>`}

      <h2>Cases</h2>
      ${
        detail.cases.length === 0
          ? html`<div class="empty">No case for this event.</div>`
          : detail.cases.map((entry) => html`<pre class="json">${JSON.stringify(entry, null, 2)}</pre>`)
      }

      <h2>Deliveries to merchants</h2>
      ${deliveriesSection(session, detail.deliveries as unknown as Array<DeliveryView & { attemptLog: AttemptView[] }>, self)}

      <h2>Re-run history</h2>
      ${
        detail.reruns.length === 0
          ? html`<div class="empty">Never re-run.</div>`
          : html`<table>
              <thead>
                <tr>
                  <th>#</th>
                  <th>When</th>
                  <th>Who</th>
                  <th>Why</th>
                  <th>Trigger</th>
                  <th>Before</th>
                  <th>Workflow / run</th>
                  <th>Result</th>
                </tr>
              </thead>
              <tbody>
                ${detail.reruns.map(
                  (rerun) =>
                    html`<tr>
                      <td>${rerun.seq}</td>
                      <td>${formatTime(rerun.at)}</td>
                      <td>${rerun.by}</td>
                      <td>${rerun.reason}</td>
                      <td>${rerun.trigger}${rerun.forced ? ' (forced)' : ''}</td>
                      <td>${chip(rerun.previousStatus)}</td>
                      <td class="mono">
                        ${rerun.workflowId}${rerun.runId ? html`<br /><span class="muted">${rerun.runId}</span>` : ''}
                      </td>
                      <td>${chip(rerun.result)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }`,
  );
}

function rerunForm(session: AdminSession, event: EventDetail['event'], back: string): Html {
  const { status } = event;
  if (status === 'received' || status === 'processing') {
    return html`<p class="muted">The event is being processed right now; this page refreshes until it finishes.</p>`;
  }
  const processed = status === 'processed';
  return html`<form method="post" action="/admin/events/${event.eventId}/rerun">
    ${csrfField(session)}
    <input type="hidden" name="tenant" value="${event.tenantId}" />
    <input type="hidden" name="back" value="${back}" />
    <label for="reason"><strong>Reason</strong> <span class="muted">(required, kept in the audit trail)</span></label>
    <textarea
      id="reason"
      name="reason"
      required
      maxlength="${MAX_REASON_LENGTH}"
      placeholder="e.g. Clerk organization was missing; created it"
    ></textarea>
    ${
      processed
        ? html`<p>
            <label
              ><input type="checkbox" name="force" value="1" required /> This event was processed: run it again anyway
              under a new workflow id (side effects stay idempotent)</label
            >
          </p>`
        : ''
    }
    <p><button type="submit">${processed ? 'Force a re-run' : 'Re-run'}</button></p>
  </form>`;
}

function deliveriesSection(
  session: AdminSession,
  deliveries: Array<DeliveryView & { attemptLog: AttemptView[] }>,
  back: string,
): Html {
  if (deliveries.length === 0) return html`<div class="empty">No outbound webhook for this event.</div>`;
  return html`${deliveries.map(
    (delivery) =>
      html`<div class="panel">
        <div class="actions">
          <strong>${delivery.type}</strong> ${chip(delivery.status)} <span class="mono">${delivery.messageId}</span> →
          <span class="mono">${delivery.endpointId}</span>
          ${
            ['failed', 'skipped'].includes(delivery.status)
              ? postButton(session, `/admin/deliveries/${delivery.messageId}/resend`, 'Resend', { fields: { back } })
              : ''
          }
        </div>
        ${attemptsTable(delivery.attemptLog)}
      </div>`,
  )}`;
}
