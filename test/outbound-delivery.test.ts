import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createOutboundActivities } from '../activities/outbound';
import type { DeliverWebhookResult, OutboundDispatchInput, OutboundMessageRef } from '../activities/types';
import { deliveryWorkflowId } from '../src/contracts';
import { connectDatabase, type Database } from '../src/db/connection';
import { createLogger } from '../src/logger';
import { parseRetryAfter, RESPONSE_BODY_LIMIT_BYTES, sendSignedWebhook } from '../src/outbound/http-sender';
import { OutboundDestinationRefused, parseAllowList } from '../src/outbound/ssrf-guard';
import { createEndpointStore, generateSecret, type EndpointStore } from '../src/stores/endpoint-store';
import { createMessageStore } from '../src/stores/message-store';
import { bindOutboundModels } from '../src/stores/outbound-schemas';
import { connectTemporal, type TemporalClient } from '../src/temporal/client';
import { MasterKey } from '../src/tenants/master-key';
import { createSecretBox } from '../src/tenants/secret-box';
import { startFakeMerchant, type FakeMerchant, type MerchantReply } from './helpers/fake-merchant';
import { testStack } from './setup/global-stack';

// Short, real schedule: the first attempt at once, then up to five retries (6 attempts in all).
const RETRY_SCHEDULE_MS = [200, 200, 300, 500, 1000];
const ATTEMPT_TIMEOUT_MS = 1000;
const ALLOW = parseAllowList('127.0.0.1/32');

describe('outbound webhooks', () => {
  let db: Database;
  /** Raw models, only to check what the stores wrote. */
  let models: ReturnType<typeof bindOutboundModels>;
  let endpoints: EndpointStore;
  let temporal: TemporalClient;
  let connection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  const merchants: FakeMerchant[] = [];

  before(async function () {
    this.timeout(120_000);
    const { stack } = testStack();
    const suffix = randomBytes(4).toString('hex');
    taskQueue = `hookflow-outbound-${suffix}`;
    db = await connectDatabase(stack.mongoUrl(`hookflow_outbound_${suffix}`));
    models = bindOutboundModels(db.connection);
    const secrets = createSecretBox(MasterKey.parse(randomBytes(32).toString('hex')));
    endpoints = createEndpointStore(db.connection, { allow: ALLOW, secrets });
    temporal = await connectTemporal({ address: stack.temporalAddress, namespace: 'default', taskQueue });
    connection = await NativeConnection.connect({ address: stack.temporalAddress });
    worker = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./workflows/outbound-harness'),
        logger: quietLogger,
      }),
      activities: createOutboundActivities({
        endpoints,
        messages: createMessageStore(db.connection),
        allow: ALLOW,
        timeoutMs: ATTEMPT_TIMEOUT_MS,
        plan: { retryScheduleMs: RETRY_SCHEDULE_MS, jitterRatio: 0.1, maxRetryAfterMs: 10_000 },
        temporal: { client: temporal.client, taskQueue },
        logger: createLogger('silent'),
      }),
    });
    running = worker.run();
  });

  after(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await connection?.close();
    await temporal?.close();
    await Promise.all(merchants.map((merchant) => merchant.close()));
    await db?.connection.dropDatabase();
    await db?.close();
  });

  async function merchant(reply: (attempt: number, body: Record<string, unknown>) => MerchantReply) {
    const started = await startFakeMerchant((request) => reply(request.attempt, JSON.parse(request.body)));
    merchants.push(started);
    return started;
  }

  /** Runs dispatchOutbound inside a workflow, as processStripeEvent does. */
  async function dispatch(input: Partial<OutboundDispatchInput> & { tenantId: string }): Promise<OutboundMessageRef[]> {
    const event: OutboundDispatchInput = {
      stripeEventId: uniqueId('evt'),
      stripeEventCreated: Math.floor(Date.now() / 1000),
      objectId: uniqueId('dp'),
      type: 'dispute.created',
      payload: { dispute: { id: uniqueId('dp'), amount: 1000 } },
      ...input,
    };
    return temporal.client.workflow.execute('dispatchOutboundFromWorkflow', {
      taskQueue,
      workflowId: `test-dispatch:${event.stripeEventId}:${randomBytes(3).toString('hex')}`,
      args: [event],
    });
  }

  /** Waits for the delivery workflow of a message to finish and returns its result. */
  async function delivered(messageId: string): Promise<DeliverWebhookResult> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const message = await models.OutboundMessage.findOne({ messageId }).lean();
      if (message && ['delivered', 'failed', 'skipped'].includes(message.status)) break;
      if (Date.now() > deadline) throw new Error(`message ${messageId} still ${message?.status} after 30 s`);
      await pause(50);
    }
    return temporal.client.workflow.getHandle(deliveryWorkflowId(messageId)).result();
  }

  /** Lock documents under a key (the stores' lock collection), to check a lock was released. */
  function locksHeld(key: string): Promise<number> {
    return db.connection.collection<{ _id: string }>('locks').countDocuments({ _id: key });
  }

  async function attemptsOf(messageId: string) {
    return models.OutboundAttempt.find({ messageId }).sort({ attempt: 1 }).lean();
  }

  it('retries 500, 500 and delivers on the 3rd attempt with the same webhook-id and a valid signature each time', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant((attempt) =>
      attempt < 3 ? { status: 500, body: 'try later' } : { status: 200, body: 'x'.repeat(100_000) },
    );
    const other = await merchant(() => ({ status: 200 }));
    const endpoint = await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });
    await endpoints.create({ tenantId, url: other.url, eventTypes: ['case.created'] });
    // Stripe metadata keys may hold `.` and `$`: the body must survive storage byte for byte.
    const payload = { dispute: { id: 'dp_1', metadata: { 'order.id': '42', $plan: 'pro' } } };
    const created = 1_700_000_000;

    const refs = await dispatch({ tenantId, stripeEventCreated: created, payload });

    assert.equal(refs.length, 1, 'only the dispute.* endpoint matches dispute.created');
    const { messageId } = refs[0]!;
    assert.match(messageId, /^msg_[0-9a-f]{32}$/);
    const result = await delivered(messageId);
    assert.deepEqual(result, { messageId, outcome: 'delivered', attempts: 3 });

    assert.equal(site.received.length, 3);
    for (const request of site.received) {
      assert.equal(request.webhookId, messageId);
      const verified = new Webhook(endpoint.secret).verify(request.body, request.headers as Record<string, string>);
      assert.deepEqual(verified, {
        type: 'dispute.created',
        timestamp: new Date(created * 1000).toISOString(),
        data: payload,
      });
    }
    assert.equal(other.received.length, 0);

    const attempts = await attemptsOf(messageId);
    assert.deepEqual(
      attempts.map((attempt) => [attempt.attempt, attempt.statusCode]),
      [
        [1, 500],
        [2, 500],
        [3, 200],
      ],
    );
    assert.equal(attempts[0]!.responseBody, 'try later');
    assert.equal(attempts[2]!.responseBody.length, RESPONSE_BODY_LIMIT_BYTES, 'response body cut at 1 KiB');
    const message = await models.OutboundMessage.findOne({ messageId }).lean();
    assert.equal(message?.status, 'delivered');

    const stored = await models.OutboundEndpoint.findOne({ endpointId: endpoint.endpointId }).lean();
    assert.ok(!stored?.secret.includes(endpoint.secret.slice('whsec_'.length)), 'secret stored encrypted');

    // Hot documents are addressed by their deterministic `_id` (FerretDB answers only that from its primary key).
    assert.equal(stored?._id, endpoint.endpointId, 'endpoint _id is the endpoint id');
    assert.equal(message?._id, messageId, 'message _id is the message id');
    assert.deepEqual(
      attempts.map((attempt) => attempt._id),
      [1, 2, 3].map((number) => `${messageId}:${number}`),
    );
    assert.equal(await locksHeld(`message:${messageId}`), 0, 'message lock released');
  });

  it('keeps concurrent writes of one endpoint (operator enable/disable racing a rotation): one writer at a time', async () => {
    const tenantId = uniqueId('tenant');
    const endpoint = await endpoints.create({ tenantId, url: 'http://127.0.0.1:9/hooks', eventTypes: ['*'] });
    for (let round = 0; round < 4; round++) {
      const secret = generateSecret();
      const enabled = round % 2 === 1;
      await Promise.all([
        endpoints.setEnabled(endpoint.endpointId, enabled, 'endpoint answered 410 Gone'),
        endpoints.rotateSecret(endpoint.endpointId, secret),
        endpoints.setEnabled(endpoint.endpointId, enabled, 'endpoint answered 410 Gone'),
      ]);
      const after = await endpoints.get(endpoint.endpointId);
      assert.equal(after.enabled, enabled, `round ${round}: the enabled flag survived the rotation`);
      assert.equal(after.disabledReason, enabled ? null : 'endpoint answered 410 Gone');
      const signing = await endpoints.signingSecrets(endpoint.endpointId);
      assert.equal(signing[0], secret, `round ${round}: the rotated secret survived the enable/disable`);
      assert.equal(signing.length, 2, 'the previous secret is still signed with');
    }
    assert.equal(await locksHeld(`endpoint:${endpoint.endpointId}`), 0, 'released');
  });

  it('keeps a delivered message delivered when a late status write arrives', async () => {
    const messages = createMessageStore(db.connection);
    const input = {
      tenantId: uniqueId('tenant'),
      endpointId: uniqueId('ep'),
      stripeEventId: uniqueId('evt'),
      stripeEventCreated: 1_700_000_000,
      objectId: null,
      type: 'dispute.created',
      payload: { id: 'dp_1' },
    };
    const created = await messages.upsert(input);
    assert.equal(created._id, created.messageId);
    assert.equal(created.status, 'pending');
    assert.equal((await messages.upsert(input)).messageId, created.messageId, 'a second upsert finds the same one');

    await messages.setStatus(created.messageId, 'delivering');
    await messages.setStatus(created.messageId, 'delivered');
    await messages.setStatus(created.messageId, 'delivering'); // e.g. a begin step that had timed out
    const stored = await messages.find(created.messageId);
    assert.equal(stored?.status, 'delivered');
    assert.ok(stored?.deliveredAt instanceof Date);
  });

  it('does not deliver again when the same Stripe event is dispatched again', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant(() => ({ status: 204 }));
    await endpoints.create({ tenantId, url: site.url, eventTypes: ['*'] });
    const event = { tenantId, stripeEventId: uniqueId('evt') };
    const [first] = await dispatch(event);
    await delivered(first!.messageId);

    const again = await dispatch(event);

    assert.deepEqual(again, [], 'the delivered message is found under the same id and not queued');
    assert.equal(site.received.length, 1);
  });

  it('disables the endpoint on 410 Gone and makes no further attempts', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant(() => ({ status: 410, body: 'gone' }));
    const endpoint = await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });

    const [ref] = await dispatch({ tenantId });
    const result = await delivered(ref!.messageId);

    assert.equal(result.outcome, 'endpoint_disabled');
    assert.equal(site.received.length, 1);
    const after = await endpoints.get(endpoint.endpointId);
    assert.equal(after.enabled, false);
    assert.match(after.disabledReason ?? '', /410 Gone/);
    assert.deepEqual(await dispatch({ tenantId }), [], 'a disabled endpoint receives no new messages');
    assert.equal(site.received.length, 1);
  });

  it('records a hanging endpoint as a timeout, drops the connection and retries', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant((attempt) => (attempt === 1 ? 'hang' : { status: 200 }));
    await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });

    const [ref] = await dispatch({ tenantId });
    const result = await delivered(ref!.messageId);

    assert.equal(result.outcome, 'delivered');
    const attempts = await attemptsOf(ref!.messageId);
    assert.equal(attempts.length, 2);
    assert.equal(attempts[0]!.statusCode, null);
    assert.match(attempts[0]!.error ?? '', /timeout/);
    assert.equal(attempts[1]!.statusCode, 200);
    assert.equal(site.abandoned, 1, 'the hung request was closed by the sender');
  });

  it('waits at least as long as Retry-After before the next attempt', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant((attempt) =>
      attempt === 1 ? { status: 503, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });

    const [ref] = await dispatch({ tenantId });
    await delivered(ref!.messageId);

    assert.equal(site.received.length, 2);
    const waited = site.received[1]!.at - site.received[0]!.at;
    assert.ok(waited >= 2000, `second attempt came ${Math.round(waited)} ms after the first, Retry-After said 2 s`);
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const tenantId = uniqueId('tenant');
    const elsewhere = await merchant(() => ({ status: 200 }));
    const site = await merchant((attempt) =>
      attempt === 1 ? { status: 302, headers: { location: elsewhere.url } } : { status: 200 },
    );
    await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });

    const [ref] = await dispatch({ tenantId });
    await delivered(ref!.messageId);

    const attempts = await attemptsOf(ref!.messageId);
    assert.deepEqual(
      attempts.map((attempt) => [attempt.statusCode, attempt.error]),
      [
        [302, 'redirect not followed'],
        [200, null],
      ],
    );
    assert.equal(elsewhere.received.length, 0);
  });

  it('marks the message failed once the retry schedule is used up', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant(() => ({ status: 500 }));
    await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });

    const [ref] = await dispatch({ tenantId });
    const result = await delivered(ref!.messageId);

    const attempts = RETRY_SCHEDULE_MS.length + 1;
    assert.deepEqual(result, { messageId: ref!.messageId, outcome: 'failed', attempts });
    assert.equal(site.received.length, attempts);
    const message = await models.OutboundMessage.findOne({ messageId: ref!.messageId }).lean();
    assert.equal(message?.status, 'failed');
    assert.equal(message?.attempts, attempts);
    assert.match(message?.lastError ?? '', /gave up after 6 attempts: HTTP 500/);
  });

  it('delivers a later message about the same object only after the earlier one, which is still retrying', async () => {
    const tenantId = uniqueId('tenant');
    const objectX = uniqueId('dp');
    // The first message fails until it has been tried three times and the message about the other
    // object has arrived: that one must not wait, or the first would run out of attempts.
    const site = await startFakeMerchant((request, all) => {
      const label = (JSON.parse(request.body) as { data: { label: string } }).data.label;
      if (label !== 'x-first') return { status: 200 };
      const otherArrived = all.some((earlier) => earlier.body.includes('y-only'));
      return request.attempt >= 3 && otherArrived ? { status: 200 } : { status: 500 };
    });
    merchants.push(site);
    await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });
    const created = Math.floor(Date.now() / 1000);
    const labelOf = (index: number) =>
      (JSON.parse(site.received[index]!.body) as { data: { label: string } }).data.label;

    const [first] = await dispatch({
      tenantId,
      objectId: objectX,
      stripeEventCreated: created,
      payload: { label: 'x-first' },
    });
    await until(() => site.received.length >= 1);
    const [[second], [other]] = await Promise.all([
      dispatch({ tenantId, objectId: objectX, stripeEventCreated: created + 5, payload: { label: 'x-second' } }),
      dispatch({ tenantId, objectId: uniqueId('dp'), stripeEventCreated: created + 5, payload: { label: 'y-only' } }),
    ]);
    const results = await Promise.all([first, second, other].map((ref) => delivered(ref!.messageId)));

    assert.deepEqual(
      results.map((result) => result.outcome),
      ['delivered', 'delivered', 'delivered'],
    );
    const labels = site.received.map((_, index) => labelOf(index));
    const lastFirst = labels.lastIndexOf('x-first');
    assert.ok(labels.filter((label) => label === 'x-first').length >= 3, 'the first message was retried');
    assert.ok(labels.indexOf('x-second') > lastFirst, `x-second came before x-first was delivered: ${labels}`);
    assert.ok(labels.indexOf('y-only') < lastFirst, `another object's message waited needlessly: ${labels}`);
  });

  it('signs with the old and the new secret during a rotation', async () => {
    const tenantId = uniqueId('tenant');
    const site = await merchant(() => ({ status: 200 }));
    const endpoint = await endpoints.create({ tenantId, url: site.url, eventTypes: ['dispute.*'] });
    const rotated = await endpoints.rotateSecret(endpoint.endpointId);

    const [ref] = await dispatch({ tenantId });
    await delivered(ref!.messageId);

    const [request] = site.received;
    assert.equal(String(request!.headers['webhook-signature']).split(' ').length, 2);
    for (const secret of [endpoint.secret, rotated.secret]) {
      assert.doesNotThrow(() => new Webhook(secret).verify(request!.body, request!.headers as Record<string, string>));
    }
  });

  it('refuses, at delivery, a destination the allow list no longer covers, without connecting', async () => {
    const tenantId = uniqueId('tenant');
    const endpoint = await endpoints.create({ tenantId, url: 'http://127.0.0.1:9/hooks', eventTypes: ['*'] });
    // As if registered under a wider allow list: 127.0.0.2 is loopback but outside 127.0.0.1/32.
    await models.OutboundEndpoint.updateOne(
      { endpointId: endpoint.endpointId },
      { $set: { url: 'http://127.0.0.2:9/' } },
    );

    const [ref] = await dispatch({ tenantId });
    const result = await delivered(ref!.messageId);

    assert.equal(result.outcome, 'failed');
    const attempts = await attemptsOf(ref!.messageId);
    assert.equal(attempts.length, RETRY_SCHEDULE_MS.length + 1);
    for (const attempt of attempts) assert.match(attempt.error ?? '', /^OutboundDestinationRefused: .*loopback/);
  });

  it('refuses to register private, loopback and metadata destinations', async () => {
    for (const url of ['http://10.0.0.1/hooks', 'http://169.254.169.254/', 'http://0x7f.2/', 'http://[::1]/']) {
      await assert.rejects(
        endpoints.create({ tenantId: 'tenant_x', url, eventTypes: ['*'] }),
        OutboundDestinationRefused,
        url,
      );
    }
    assert.equal(await models.OutboundEndpoint.countDocuments({ tenantId: 'tenant_x' }), 0);
  });
});

describe('the signed sender', () => {
  it('connects to the address the guard checked, without a second DNS query (no rebinding)', async () => {
    const site = await startFakeMerchant(() => ({ status: 200 }));
    let queries = 0;
    // A rebinding resolver: a checked, allowed answer first, a private one afterwards.
    const resolve = async () =>
      queries++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }];
    try {
      const result = await sendSignedWebhook({
        url: site.url.replace('127.0.0.1', 'merchant.test'),
        webhookId: 'msg_pinned',
        body: '{}',
        secrets: [`whsec_${randomBytes(32).toString('base64')}`],
        allow: ALLOW,
        guard: { resolve },
      });
      assert.equal(result.status, 200);
      assert.equal(queries, 1);
      assert.equal(site.received.length, 1);
      assert.match(String(site.received[0]!.headers.host), /^merchant\.test:/);
    } finally {
      await site.close();
    }
  });
});

describe('the signed sender deadline', () => {
  it('counts the DNS lookup against the timeout: a lookup that never answers ends the attempt at the timeout', async () => {
    let asked = 0;
    const result = await sendSignedWebhook({
      url: 'http://merchant.test/hooks',
      webhookId: 'msg_dns_hangs',
      body: '{}',
      secrets: [generateSecret()],
      allow: ALLOW,
      timeoutMs: 300,
      guard: {
        resolve: () => {
          asked++;
          return new Promise(() => undefined);
        },
      },
    });
    assert.equal(asked, 1);
    assert.equal(result.status, null);
    assert.match(result.error ?? '', /^timeout: DNS lookup .* within 300 ms/);
    assert.ok(result.latencyMs < 1000, `the attempt took ${result.latencyMs} ms with a 300 ms timeout`);
  });

  it('one deadline for lookup and request: a slow lookup leaves the request only the rest of the time', async () => {
    const site = await startFakeMerchant(() => 'hang');
    try {
      const result = await sendSignedWebhook({
        url: site.url.replace('127.0.0.1', 'merchant.test'),
        webhookId: 'msg_dns_slow',
        body: '{}',
        secrets: [generateSecret()],
        allow: ALLOW,
        timeoutMs: 800,
        guard: {
          resolve: async () => {
            await pause(400);
            return [{ address: '127.0.0.1', family: 4 }];
          },
        },
      });
      assert.equal(result.status, null);
      assert.match(result.error ?? '', /^timeout: /);
      assert.equal(site.received.length, 1, 'the request was sent after the lookup');
      // 400 ms lookup + 800 ms request would be 1200 ms if the timeout started after the lookup.
      assert.ok(result.latencyMs < 1100, `the attempt took ${result.latencyMs} ms with an 800 ms timeout`);
    } finally {
      await site.close();
    }
  });

  it('still refuses a destination the lookup answers with a private address', async () => {
    const result = await sendSignedWebhook({
      url: 'http://merchant.test/hooks',
      webhookId: 'msg_dns_private',
      body: '{}',
      secrets: [generateSecret()],
      allow: ALLOW,
      timeoutMs: 1000,
      guard: { resolve: async () => [{ address: '10.0.0.1', family: 4 }] },
    });
    assert.equal(result.status, null);
    assert.match(result.error ?? '', /^OutboundDestinationRefused: .*private/);
  });
});

describe('Retry-After parsing', () => {
  const now = new Date('2026-01-01T00:00:00Z');

  it('reads delay-seconds and HTTP dates, and ignores anything else', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a date in the past means now');
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter('-5', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await pause(20);
  }
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
