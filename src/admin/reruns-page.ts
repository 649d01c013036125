import type { BulkRerunJob, BulkRerunPlan } from '../support/reruns';
import { chip, formatTime, html, queryString, type Html } from './html';
import { csrfField, page, postButton, type Notice } from './layout';
import type { AdminSession } from './session';

/** Step 1 of a bulk re-run: what would run (count, first ids), then a reason and Start. */
export function bulkPlanPage(
  session: AdminSession,
  filter: Record<string, string>,
  plan: BulkRerunPlan,
  notice: Notice | null,
): Html {
  const back = `/admin/events${queryString({ ...filter, status: 'failed' })}`;
  const filterText = Object.entries(plan.filter)
    .map(([name, value]) => `${name} = ${value}`)
    .join(', ');
  return page(
    { title: 'Plan a bulk re-run', session, section: 'events', notice },
    html`<h1>Plan a bulk re-run</h1>
      <div class="panel">
        <dl class="facts">
          <dt>Tenant</dt>
          <dd>${plan.tenantId}</dd>
          <dt>Filter</dt>
          <dd class="mono">${filterText}</dd>
          <dt>Failed events now</dt>
          <dd><strong id="plan-count">${plan.overCap ? `more than ${plan.cap}` : plan.count}</strong></dd>
          <dt>First of them</dt>
          <dd class="mono">
            ${plan.firstEventIds.length === 0 ? '—' : plan.firstEventIds.map((id) => html`<div>${id}</div>`)}
          </dd>
        </dl>
        <p class="muted">
          Only events whose status is still <em>failed</em> when the job reaches them are re-run; events fixed in the
          meantime are skipped. The job runs at a steady rate and can be cancelled.
        </p>
      </div>
      ${
        plan.overCap
          ? html`<div class="notice bad">
                This matches more than ${plan.cap} events, the limit of one bulk re-run. Narrow the filters.
              </div>
              <p><a class="button secondary" href="${back}">Back to events</a></p>`
          : plan.count === 0
            ? html`<div class="empty">No failed event matches: nothing to re-run.</div>
                <p><a class="button secondary" href="${back}">Back to events</a></p>`
            : html`<form class="panel" method="post" action="/admin/reruns">
                ${csrfField(session)}
                ${Object.entries(filter).map(([name, value]) => html`<input type="hidden" name="filter.${name}" value="${value}" />`)}
                <label for="reason"
                  ><strong>Reason</strong> <span class="muted">(required, kept on every re-run)</span></label
                >
                <textarea id="reason" name="reason" required maxlength="1000"></textarea>
                <p class="actions">
                  <button type="submit">Start re-running ${plan.count} events</button>
                  <a class="button secondary" href="${back}">Cancel</a>
                </p>
              </form>`
      }`,
  );
}

/** Step 2: the running job, reloading itself until it finishes; Cancel while it runs. */
export function bulkJobPage(session: AdminSession, job: BulkRerunJob, notice: Notice | null): Html {
  const running = job.state === 'running';
  const done = job.started + job.skipped + job.failedStarts;
  return page(
    { title: `Bulk re-run ${job.id}`, session, section: 'events', notice, refreshSeconds: running ? 1 : undefined },
    html`<h1>Bulk re-run <span class="mono">${job.id}</span> ${chip(job.state)}</h1>
      <div class="panel">
        <progress id="progress" max="${Math.max(job.planned, 1)}" value="${Math.min(done, job.planned)}"></progress>
        <p>
          <strong id="progress-text">${done} of ${job.planned}</strong> handled: ${job.started} re-run, ${job.skipped}
          skipped (no longer
          failed)${job.failedStarts > 0 ? html`, <span class="reason">${job.failedStarts} could not start</span>` : ''}.
        </p>
        <dl class="facts">
          <dt>Tenant</dt>
          <dd>${job.tenantId}</dd>
          <dt>Filter</dt>
          <dd class="mono">
            ${Object.entries(job.filter)
              .map(([name, value]) => `${name} = ${value}`)
              .join(', ')}
          </dd>
          <dt>Reason</dt>
          <dd>${job.reason}</dd>
          <dt>Started by</dt>
          <dd>${job.by} at ${formatTime(job.createdAt)}</dd>
          <dt>Finished</dt>
          <dd>${formatTime(job.finishedAt)}${job.cancelledBy ? ` (cancelled by ${job.cancelledBy})` : ''}</dd>
          ${
            job.lastError
              ? html`<dt>Last error</dt>
                  <dd class="reason">${job.lastError}</dd>`
              : ''
          }
          <dt>Workflow</dt>
          <dd class="mono">${job.workflowId}</dd>
        </dl>
        <p class="actions">
          ${running ? postButton(session, `/admin/reruns/${job.id}/cancel`, 'Cancel the rest', { tone: 'danger' }) : ''}
          <a class="button secondary" href="/admin/events${queryString({ ...job.filter, status: undefined })}"
            >See the events</a
          >
        </p>
      </div>`,
  );
}
