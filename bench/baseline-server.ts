import Koa from 'koa';
import getRawBody from 'raw-body';
import Stripe from 'stripe';

/**
 * The comparison point for acknowledgement throughput: "Stripe's docs handler" — verify the
 * signature over the raw body with the official SDK and answer 200, storing nothing
 * (https://docs.stripe.com/webhooks/quickstart, here on Koa like hookflow's receiver). Run as its
 * own process by bench/run.ts: `BASELINE_PORT=… BASELINE_SECRET=… node dist/bench/baseline-server.js`.
 */
const port = Number(process.env.BASELINE_PORT);
const secret = process.env.BASELINE_SECRET ?? '';
// constructEvent needs no API call; the key only satisfies the constructor.
const stripe = new Stripe('sk_test_bench_baseline_not_used');

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method === 'GET' && ctx.path === '/healthz') {
    ctx.body = { ok: true };
    return;
  }
  if (ctx.method !== 'POST' || ctx.path !== '/webhooks/stripe') {
    ctx.status = 404;
    return;
  }
  const rawBody = await getRawBody(ctx.req, { limit: '1mb' });
  try {
    const event = stripe.webhooks.constructEvent(rawBody, ctx.get('stripe-signature'), secret);
    ctx.status = 200;
    ctx.body = { received: true, id: event.id };
  } catch (error) {
    ctx.status = 400;
    ctx.body = { error: error instanceof Error ? error.message : String(error) };
  }
});

const server = app.listen(port, '127.0.0.1', () => process.stdout.write(`baseline listening on ${port}\n`));
const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
