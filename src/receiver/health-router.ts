import Router from '@koa/router';
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';

export type ReadinessCheck = () => Promise<void>;

/** `/healthz` says the process is up; `/readyz` that its dependencies answer; `/metrics` for Prometheus. */
export function createHealthRouter(
  checks: Record<string, ReadinessCheck>,
  registry: Registry,
  log: Logger,
  /** Start backlog shown by `/readyz` (the receiver stays ready: events are stored before the answer). */
  startQueue: () => { backlog: number; inFlight: number; limit: number; queueLimit: number },
  timeoutMs = 2_000,
): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs);
          return [name, 'ok'] as const;
        } catch (error) {
          // The detail (hosts, ports) goes to the log, not to an unauthenticated endpoint.
          log.warn({ err: error, check: name }, 'readiness check failed');
          return [name, 'failing'] as const;
        }
      }),
    );
    const ready = entries.every(([, state]) => state === 'ok');
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(entries), starts: startQueue() };
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = registry.contentType;
    ctx.body = await registry.metrics();
  });
  return router;
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
