import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ReconcilerObserver } from './reconciler';

export interface WorkerMetrics {
  registry: Registry;
  reconciler: ReconcilerObserver;
}

/** The worker's own registry: the reconciler's view of the inbox and what it gave up on. */
export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'hookflow_worker_' });
  const pending = new Gauge({
    name: 'hookflow_inbox_pending',
    help: 'Acknowledged events listed in the start inbox (read by the last reconciler pass, at most its read limit of entries)',
    registers: [registry],
  });
  const entries = new Gauge({
    name: 'hookflow_inbox_entries',
    help: 'Inbox entries read by the last reconciler pass',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'hookflow_reconciler_failures_total',
    help: 'Workflow starts the reconciler could not make, by reason (rejected, unparseable and budget_exhausted end the event as failed)',
    labelNames: ['reason'],
    registers: [registry],
  });
  return {
    registry,
    reconciler: {
      inboxPending(events, entryCount) {
        pending.set(events);
        entries.set(entryCount);
      },
      failure(reason) {
        failures.inc({ reason });
      },
    },
  };
}

/** `GET /metrics` on its own port: the worker has no HTTP server otherwise. JSON errors elsewhere. */
export async function serveWorkerMetrics(registry: Registry, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify({ error: { code: 'not_found', message: 'Only GET /metrics is served here.' } }));
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { 'content-type': 'application/json; charset=utf-8', allow: 'GET, HEAD' });
      response.end(JSON.stringify({ error: { code: 'method_not_allowed', message: 'Use GET /metrics.' } }));
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType });
        response.end(text);
      },
      () => {
        response.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        response.end(JSON.stringify({ error: { code: 'internal_error', message: 'internal error' } }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
