import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createWorkerMetrics, serveWorkerMetrics } from '../src/worker/worker-metrics';

describe('the worker metrics endpoint', () => {
  it('serves the inbox backlog and reconciler failures by reason, and JSON errors elsewhere', async () => {
    const metrics = createWorkerMetrics();
    metrics.reconciler.inboxPending(7, 2);
    metrics.reconciler.failure('rejected');
    metrics.reconciler.failure('unavailable');
    metrics.reconciler.failure('unavailable');
    const server = await serveWorkerMetrics(metrics.registry, '127.0.0.1', 0);
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const text = await (await fetch(`${base}/metrics`)).text();
      assert.match(text, /^hookflow_inbox_pending 7$/m);
      assert.match(text, /^hookflow_inbox_entries 2$/m);
      assert.match(text, /^hookflow_reconciler_failures_total\{reason="rejected"\} 1$/m);
      assert.match(text, /^hookflow_reconciler_failures_total\{reason="unavailable"\} 2$/m);
      const missing = await fetch(`${base}/nope`);
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
      const wrong = await fetch(`${base}/metrics`, { method: 'POST' });
      assert.equal(wrong.status, 405);
      assert.equal(wrong.headers.get('allow'), 'GET, HEAD');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
