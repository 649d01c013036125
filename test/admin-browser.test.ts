import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectDatabase, type Database } from '../src/db/connection';
import { storeOptionsFromConfig } from '../src/stores';
import { launchChromium, screenshotDir } from './helpers/browser';
import { startFakeClerk, type FakeClerk } from './helpers/fake-clerk';
import { startFakeMerchant, type FakeMerchant } from './helpers/fake-merchant';
import { SECRET_A, startHookflow, waitForEventStatus, type RunningHookflow } from './helpers/hookflow';
import {
  deliverEvent,
  stripeEvent,
  stripeObject,
  uniqueId,
  type StripeEventPayload,
  subscriptionCheckout,
} from './helpers/stripe-events';
import { testStack } from './setup/global-stack';

const ADMIN_TOKEN = 'admin-token-for-the-browser-tests';
const SUPPORT_NAME = 'Ana (support)';
/** Stripe metadata is the merchant's text: the page must show it as text, never as markup. */
const HOSTILE_METADATA = '<b>bold</b><script>alert("xss")</script>';

/**
 * The support desk as support staff use it, in headless Debian chromium driven by playwright-core:
 * sign in, find failed events and why they failed, re-run one and many, resend a failed merchant
 * delivery, sign out; CSRF and session checks; and the Temporal UI's search-attribute filters.
 * Every page is saved as a screenshot under test-output/admin/.
 */
describe('the admin page in headless chromium', function () {
  this.timeout(120_000);
  const tenant = `admin-${randomBytes(3).toString('hex')}`;
  let hookflow: RunningHookflow;
  let db: Database;
  let clerk: FakeClerk;
  let merchant: FakeMerchant;
  let merchantDown = true;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let uiUrl: string;
  let endpointId: string;
  const failedCheckouts: StripeEventPayload[] = [];
  let charge: { event: StripeEventPayload; chargeId: string };
  let failedMessageId: string;
  const shots = screenshotDir('admin');
  const dialogs: string[] = [];

  const admin = (path: string) => `${hookflow.baseUrl}${path}`;
  const shoot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  before(async function () {
    this.timeout(180_000);
    uiUrl = testStack().stack.uiUrl!;
    assert.ok(uiUrl, 'the test stack serves the Temporal UI');
    clerk = await startFakeClerk();
    merchant = await startFakeMerchant(() => (merchantDown ? { status: 503, body: 'maintenance' } : { status: 200 }));
    hookflow = await startHookflow({
      HOOKFLOW_DEFAULT_TENANT: tenant,
      HOOKFLOW_ADMIN_TOKEN: ADMIN_TOKEN,
      HOOKFLOW_MASTER_KEY: randomBytes(32).toString('base64'),
      HOOKFLOW_OUTBOUND_ALLOW: '127.0.0.1/32',
      HOOKFLOW_OUTBOUND_RETRY_SCHEDULE: '100ms,100ms',
      HOOKFLOW_RERUN_RATE: '2',
      CLERK_SECRET_KEY: 'sk_test_admin_browser',
      CLERK_API_URL: clerk.url,
      TEMPORAL_UI_URL: uiUrl,
    });
    db = await connectDatabase(hookflow.config.mongoUrl, storeOptionsFromConfig(hookflow.config));
    endpointId = (
      await db.stores.endpoints.create({ tenantId: tenant, url: merchant.url, eventTypes: ['transaction.*'] })
    ).endpointId;

    // Four checkouts for organizations Clerk does not know (404): four failed events.
    for (let index = 0; index < 4; index++) {
      const organizationId = uniqueId('org');
      clerk.script('PATCH', `/v1/organizations/${organizationId}/metadata`, { status: 404 });
      failedCheckouts.push(checkout(organizationId, index === 0 ? { note: HOSTILE_METADATA } : {}));
    }
    const chargeId = uniqueId('ch');
    charge = {
      chargeId,
      event: stripeEvent('charge.succeeded', stripeObject('charge', { id: chargeId, metadata: {} })),
    };
    const dispute = stripeEvent(
      'charge.dispute.created',
      stripeObject('dispute', { id: uniqueId('dp'), charge: uniqueId('ch'), status: 'needs_response', amount: 4200 }),
    );
    for (const event of [...failedCheckouts, charge.event, dispute]) {
      assert.equal((await deliverEvent(hookflow.webhookUrl, event, SECRET_A)).status, 200);
    }
    for (const event of failedCheckouts) assert.equal((await waitForEventStatus(hookflow, event.id)).status, 'failed');
    assert.equal((await waitForEventStatus(hookflow, charge.event.id)).status, 'processed');
    await waitForEventStatus(hookflow, dispute.id);
    failedMessageId = await until('the delivery to the down merchant to give up', async () => {
      const page = await db.stores.messages.list({ status: 'failed', endpointId, limit: 10 });
      return page.messages[0]?.messageId;
    });
    await until('the Temporal UI to answer', async () => (await fetch(uiUrl).catch(() => null))?.ok || undefined);

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await db?.close();
    await hookflow?.close();
    await clerk?.close();
    await merchant?.close();
  });

  it('sends a visitor without a session to sign in, refuses a wrong token, and signs in with the token and a name', async () => {
    await page.goto(admin('/admin/events?status=failed'));
    assert.match(page.url(), /\/admin\/login\?next=%2Fadmin%2Fevents%3Fstatus%3Dfailed$/);
    await shoot('01-sign-in');

    await page.getByLabel('Your name').fill(SUPPORT_NAME);
    await page.getByLabel('Admin token').fill('not-the-admin-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That admin token is not right.').waitFor();

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/events\?status=failed$/);
    await page.getByText(`Signed in as ${SUPPORT_NAME}`).waitFor();

    const session = (await context.cookies()).find((cookie) => cookie.name === 'hookflow_admin');
    assert.ok(session, 'a session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.doesNotMatch(session.value, new RegExp(ADMIN_TOKEN), 'the cookie does not carry the admin token');
  });

  it('filters to failed events and shows why each one failed in the list', async () => {
    await page.goto(admin('/admin/events'));
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=failed/);
    const rows = page.locator('tbody tr');
    assert.equal(await rows.count(), 4);
    for (const event of failedCheckouts) {
      const row = page.locator('tr', { has: page.getByRole('link', { name: event.id }) });
      assert.equal(await row.locator('.chip').innerText(), 'failed');
      assert.match(await row.locator('td.reason').innerText(), /404/, 'the failure reason is in the row');
    }
    await shoot('02-events-failed');
  });

  it('opens a failed event, re-runs it with a reason and sees it turn processed', async () => {
    const target = failedCheckouts[0]!;
    clerk.reset(); // the organizations exist in Clerk now: every call answers 200
    await page.getByRole('link', { name: target.id }).click();
    await page.waitForURL(new RegExp(`/admin/events/${target.id}`));
    assert.equal(await page.locator('h1 .chip').innerText(), 'failed');
    const payload = await page.locator('pre.json').first().innerText();
    assert.ok(payload.includes('<b>bold</b><script>alert(\\"xss\\")</script>'), 'the payload is shown as text');
    assert.equal(await page.locator('pre.json b, pre.json script').count(), 0, 'no payload markup was rendered');
    const temporalLink = page.getByRole('link', { name: /Open in Temporal UI/ });
    assert.ok((await temporalLink.getAttribute('href'))?.startsWith(`${uiUrl}/namespaces/default/workflows/`));
    await shoot('03-event-failed');

    await page.getByLabel(/Reason/).fill('Clerk organization restored by support');
    await page.getByRole('button', { name: 'Re-run', exact: true }).click();
    await page.getByText(/Re-run #1 started/).waitFor();
    // The page reloads itself while the event runs.
    await page.locator('h1 .chip', { hasText: 'processed' }).waitFor({ timeout: 30_000 });
    const history = page.locator('tr', { hasText: 'Clerk organization restored by support' });
    assert.match(await history.innerText(), new RegExp(`${escapeRegExp(SUPPORT_NAME)}.*manual`, 's'));
    await shoot('04-event-processed');
    assert.deepEqual(dialogs, [], 'no script from the payload ran');
  });

  it('bulk re-runs the filtered failed events: the plan first, then live progress', async () => {
    await page.goto(admin('/admin/events?status=failed'));
    assert.equal(await page.locator('tbody tr').count(), 3);
    await page.getByRole('link', { name: 'Plan a bulk re-run…' }).click();
    await page.waitForURL(/\/admin\/reruns\/plan\?/);
    assert.equal(await page.locator('#plan-count').innerText(), '3');
    await shoot('05-bulk-plan');

    await page.getByLabel(/Reason/).fill('Clerk outage over: re-run what failed');
    await page.getByRole('button', { name: /Start re-running 3 events/ }).click();
    await page.waitForURL(/\/admin\/reruns\/rr_[0-9a-f]{16}$/);
    assert.ok(await page.locator('progress#progress').isVisible(), 'a progress bar');
    const seen = new Set<string>([await page.locator('#progress-text').innerText()]);
    await shoot('06-bulk-progress');
    // Reloads every second while running; collect what it showed on the way.
    const deadline = Date.now() + 60_000;
    while ((await page.locator('h1 .chip').innerText()) !== 'completed') {
      assert.ok(Date.now() < deadline, 'the bulk re-run completes within a minute');
      await page.waitForTimeout(300);
      seen.add(
        await page
          .locator('#progress-text')
          .innerText()
          .catch(() => ''),
      );
    }
    assert.equal(await page.locator('#progress-text').innerText(), '3 of 3');
    assert.match(await page.locator('.panel').first().innerText(), /3 re-run, 0 skipped/);
    assert.ok(seen.size >= 2, `progress moved on the page (${[...seen].join(' → ')})`);
    await shoot('07-bulk-done');

    await page.goto(admin('/admin/events?status=failed'));
    await page.getByText('No events match these filters.').waitFor();
  });

  it('lists the failed delivery (and the Temporal UI filter finds it), then resends it with the same webhook-id', async () => {
    await page.goto(admin('/admin/deliveries?status=failed'));
    const row = page.locator('tr', { hasText: failedMessageId });
    assert.match(await row.locator('td.reason').innerText(), /gave up after 3 attempts: HTTP 503/);
    await shoot('08-deliveries-failed');

    const query = `HookflowOutcome="delivery_failed" AND WorkflowId="outbound-delivery:${failedMessageId}"`;
    await temporalUiLists(query, `outbound-delivery:${failedMessageId}`, '09-temporal-ui-delivery-failed');

    merchantDown = false;
    await page.goto(admin('/admin/deliveries?status=failed'));
    await page.locator('tr', { hasText: failedMessageId }).getByRole('button', { name: 'Resend' }).click();
    await page.getByText(`Resending ${failedMessageId} (same webhook-id).`).waitFor();
    await until('the resent delivery to arrive', async () => {
      await page.goto(admin(`/admin/deliveries/${failedMessageId}`));
      return (await page.locator('h1 .chip').innerText()) === 'delivered' || undefined;
    });
    await shoot('10-delivery-resent');
    const requests = merchant.received.filter((request) => request.webhookId === failedMessageId);
    assert.equal(requests.length, 4, 'three failed attempts and the resend, one webhook-id');
    assert.match(
      await page.locator('dl.facts').innerText(),
      new RegExp(`by ${escapeRegExp(SUPPORT_NAME)} \\(resend\\)`),
    );
  });

  it('lets an operator find the event in the Temporal UI by StripeEventType and by HookflowOutcome', async () => {
    const workflowId = `stripe-event:${tenant}:${charge.event.id}`;
    await temporalUiLists(
      `StripeEventType="charge.succeeded" AND StripeObjectId="${charge.chargeId}"`,
      workflowId,
      '11-temporal-ui-by-type',
    );
    await temporalUiLists(
      `HookflowOutcome="no_session" AND TenantId="${tenant}"`,
      workflowId,
      '12-temporal-ui-by-outcome',
    );
  });

  it('shows the endpoints (disable, enable, recover) and the cases', async () => {
    await page.goto(admin('/admin/endpoints'));
    const row = page.locator('tr', { hasText: endpointId });
    await row.getByText('enabled').waitFor();
    await shoot('13-endpoints');
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.getByText(`Disabled ${endpointId}`).waitFor();
    assert.match(await row.innerText(), /disabled by Ana \(support\) on the admin page/);
    assert.equal((await db.stores.endpoints.get(endpointId)).enabled, false);
    await row.getByRole('button', { name: 'Enable' }).click();
    await page.getByText(`Enabled ${endpointId}.`).waitFor();
    await row.getByRole('button', { name: 'Recover' }).click();
    await page.getByText(`Recovering 0 failed deliveries to ${endpointId}.`).waitFor();
    assert.equal((await db.stores.endpoints.get(endpointId)).enabled, true);
    await page.goto(admin('/admin/cases'));
    assert.equal(await page.locator('tbody tr').count(), 1);
    assert.equal(await page.locator('tbody tr .chip').innerText(), 'open');
    await shoot('14-cases');
  });

  it('refuses a state change without the session cookie or with a wrong CSRF token, and bad input, changing nothing', async () => {
    const session = (await context.cookies()).find((cookie) => cookie.name === 'hookflow_admin')!;
    const post = (cookie: string | null, csrf: string) =>
      fetch(admin(`/admin/endpoints/${endpointId}/disable`), {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(cookie ? { cookie: `hookflow_admin=${cookie}` } : {}),
        },
        body: new URLSearchParams({ _csrf: csrf }).toString(),
      });
    const wrongToken = await post(session.value, 'forged-token');
    assert.equal(wrongToken.status, 403);
    assert.match(await wrongToken.text(), /CSRF check failed/);
    const noCookie = await post(null, 'anything');
    assert.equal(noCookie.status, 401);
    const tampered = await post(`${session.value.slice(0, -2)}xx`, 'anything');
    assert.equal(tampered.status, 401, 'a tampered cookie is no session');
    assert.equal((await db.stores.endpoints.get(endpointId)).enabled, true, 'the endpoint was not disabled');

    // Bad input from a signed-in session with a valid CSRF token: a clear 4xx page, nothing re-run.
    await page.goto(admin(`/admin/events/${failedCheckouts[1]!.id}?tenant=${tenant}`));
    const csrf = (await page.locator('input[name="_csrf"]').first().getAttribute('value'))!;
    const before = (await db.stores.events.find(tenant, failedCheckouts[1]!.id))?.reruns;
    const rerun = (reason: string) =>
      fetch(admin(`/admin/events/${failedCheckouts[1]!.id}/rerun`), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `hookflow_admin=${session.value}` },
        body: new URLSearchParams({ _csrf: csrf, tenant, reason, force: '1' }).toString(),
      });
    const tooLong = await rerun('x'.repeat(1_001));
    assert.equal(tooLong.status, 400);
    assert.match(await tooLong.text(), /at most 1,?000/);
    const missing = await rerun('   ');
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /A reason is required/);
    assert.equal((await db.stores.events.find(tenant, failedCheckouts[1]!.id))?.reruns, before, 'nothing was re-run');
    for (const [path, message] of [
      ['/admin/events?colour=red', /Unknown filter &#39;colour&#39;/],
      ['/admin/events/not-an-event', /is not a Stripe event id/],
      ['/admin/deliveries?status=lost', /Status must be one of/],
    ] as const) {
      const response = await fetch(admin(path), { headers: { cookie: `hookflow_admin=${session.value}` } });
      assert.equal(response.status, 400, path);
      assert.match(await response.text(), message, path);
    }

    const anonymousPage = await fetch(admin('/admin/deliveries'), { redirect: 'manual' });
    assert.equal(anonymousPage.status, 303);
    assert.match(anonymousPage.headers.get('location') ?? '', /^\/admin\/login\?next=/);
  });

  it('signs out', async () => {
    await page.goto(admin('/admin/events'));
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    assert.equal(
      (await context.cookies()).find((cookie) => cookie.name === 'hookflow_admin'),
      undefined,
    );
    await page.goto(admin('/admin/events'));
    assert.match(page.url(), /\/admin\/login\?next=/);
  });

  /** Opens the Temporal UI's workflow list with a visibility query and waits for the workflow id to show. */
  async function temporalUiLists(query: string, workflowId: string, screenshot: string) {
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    // The row's link, not the filter chip (which may show the id as part of the query).
    await page.getByRole('link', { name: workflowId, exact: true }).waitFor({ timeout: 30_000 });
    await shoot(screenshot);
  }
});

function checkout(organizationId: string, metadata: Record<string, string>) {
  return subscriptionCheckout(organizationId, { metadata });
}

async function until<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
