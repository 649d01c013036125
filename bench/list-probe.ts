import mongoose from 'mongoose';
import { randomBytes } from 'node:crypto';
import { ensureStoreIndexes } from '../src/stores';
import { listKey } from '../src/stores/event-models';
import { startBenchStack } from './stack';
import { probeEventList } from './store-probe';

/**
 * `node dist/bench/list-probe.js [events=100000]`: fills stripe_events on the embedded stack with
 * synthetic events (5 % failed, 4 tenants-worth of types incl. disputes, 2,000 customers), then
 * measures the support list (probeEventList). Prints JSON. Not part of `npm run bench`.
 */
async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 100_000);
  const stack = await startBenchStack('list-probe');
  try {
    const connection = mongoose.createConnection(stack.mongoUrl, { retryWrites: false, autoIndex: false });
    await connection.asPromise();
    const { openStores } = await import('../src/stores');
    openStores(connection);
    await ensureStoreIndexes(connection);
    const collection = connection.db!.collection('stripe_events');
    const types = [
      'customer.updated',
      'invoice.paid',
      'charge.succeeded',
      'charge.dispute.created',
      'charge.dispute.closed',
    ];
    const began = Date.now();
    const start = Date.now() - total * 100;
    const batch = 1_000;
    for (let offset = 0; offset < total; offset += batch) {
      const docs = [];
      for (let index = offset; index < Math.min(total, offset + batch); index++) {
        const eventId = `evt_${index.toString(36)}${randomBytes(4).toString('hex')}`;
        const receivedAt = new Date(start + index * 100);
        docs.push({
          _id: `default:${eventId}`,
          tenantId: 'default',
          eventId,
          type: types[index % types.length],
          resource: 'charge',
          objectId: `ch_${index}`,
          customerId: `cus_${index % 2_000}`,
          livemode: false,
          apiVersion: '2024-06-20',
          eventCreated: Math.floor(receivedAt.getTime() / 1000),
          rawBody: JSON.stringify({ id: eventId, padding: 'x'.repeat(1_500) }),
          status: index % 20 === 0 ? 'failed' : 'processed',
          outcome: index % 20 === 0 ? 'failed' : 'applied',
          error: null,
          workflowId: `stripe-event:default:${eventId}`,
          receivedAt,
          processedAt: receivedAt,
          listKey: listKey(receivedAt, eventId),
          reruns: 0,
        });
      }
      await collection.insertMany(docs as never[], { ordered: false });
    }
    const fillSeconds = (Date.now() - began) / 1000;
    await connection.close();
    const list = await probeEventList(
      stack.mongoUrl,
      'default',
      { objectId: `ch_${total - 77}`, customerId: 'cus_1234' },
      20,
    );
    process.stdout.write(`${JSON.stringify({ stored_events: total, fill_seconds: fillSeconds, list }, null, 2)}\n`);
  } finally {
    await stack.stop();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
