import mongoose from 'mongoose';
import { randomBytes } from 'node:crypto';
import { listKey } from '../src/stores/event-models';
import { startBenchStack } from './stack';
import { round } from './load';

/**
 * `node dist/bench/index-cost-probe.js [events=5000] [batch=50]`: what the support-list indexes
 * cost the receiver's group commit. Inserts the same stream of event documents (1.5 KB bodies) in
 * batches, alternately into a collection with the indexes of stripe_events before the support view
 * (unique tenant+event, status+receivedAt, tenant+object) and one with today's (unique tenant+event
 * and the five list indexes). Prints JSON: ms per batch (p50/p99) and documents per second each.
 */
const BEFORE = [
  { key: { tenantId: 1, eventId: 1 }, unique: true },
  { key: { status: 1, receivedAt: 1 } },
  { key: { tenantId: 1, objectId: 1 } },
];
const NOW = [
  { key: { tenantId: 1, eventId: 1 }, unique: true },
  { key: { tenantId: 1, listKey: -1 } },
  { key: { tenantId: 1, status: 1, listKey: -1 } },
  { key: { tenantId: 1, type: 1, listKey: -1 } },
  { key: { tenantId: 1, objectId: 1, listKey: -1 } },
  { key: { tenantId: 1, customerId: 1, listKey: -1 } },
];

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 5_000);
  const batchSize = Number(process.argv[3] ?? 50);
  const stack = await startBenchStack('index-cost');
  try {
    const connection = mongoose.createConnection(stack.mongoUrl, { retryWrites: false });
    await connection.asPromise();
    const db = connection.db!;
    const sets = { before: BEFORE, now: NOW } as const;
    const times: Record<string, number[]> = { before: [], now: [] };
    for (const [name, indexes] of Object.entries(sets)) {
      await db.createCollection(`events_${name}`);
      for (const index of indexes) {
        await db.collection(`events_${name}`).createIndex(index.key as never, { unique: index.unique === true });
      }
    }
    for (let offset = 0; offset < total; offset += batchSize) {
      const docs = Array.from({ length: Math.min(batchSize, total - offset) }, (_, index) => {
        const eventId = `evt_${(offset + index).toString(36)}${randomBytes(4).toString('hex')}`;
        const receivedAt = new Date();
        return {
          _id: `default:${eventId}`,
          tenantId: 'default',
          eventId,
          type: 'charge.succeeded',
          resource: 'charge',
          objectId: `ch_${offset + index}`,
          customerId: `cus_${(offset + index) % 2_000}`,
          livemode: false,
          eventCreated: Math.floor(receivedAt.getTime() / 1000),
          rawBody: JSON.stringify({ id: eventId, padding: 'x'.repeat(1_500) }),
          status: 'received',
          workflowId: `stripe-event:default:${eventId}`,
          receivedAt,
          listKey: listKey(receivedAt, eventId),
          reruns: 0,
        };
      });
      // Alternate which goes first, so machine noise falls on both alike.
      const order = (offset / batchSize) % 2 === 0 ? ['before', 'now'] : ['now', 'before'];
      for (const name of order) {
        const began = performance.now();
        await db
          .collection(`events_${name}`)
          .insertMany(docs.map((doc) => ({ ...doc })) as never[], { ordered: false });
        times[name]!.push(performance.now() - began);
      }
    }
    await connection.close();
    const summary = Object.fromEntries(
      Object.entries(times).map(([name, samples]) => {
        const sorted = [...samples].sort((a, b) => a - b);
        const sum = sorted.reduce((acc, value) => acc + value, 0);
        return [
          name,
          {
            batches: sorted.length,
            p50_ms: round(sorted[Math.floor(sorted.length / 2)]!, 2),
            p99_ms: round(sorted[Math.floor(sorted.length * 0.99)]!, 2),
            docs_per_s: round((total / sum) * 1000, 0),
          },
        ];
      }),
    );
    process.stdout.write(`${JSON.stringify({ events: total, batch: batchSize, ...summary }, null, 2)}\n`);
  } finally {
    await stack.stop();
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
