import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDatabase } from '../src/db/connection';
import { startHookflowProcesses } from '../src/stack/hookflow-processes';
import { freePort } from '../src/stack/ports';
import { freeProdPorts, startProdInfra } from '../src/stack/prod-stack';
import { signatureHeader, stripeEvent, stripeObject, uniqueId } from '../src/stripe/sample-events';

/**
 * Task-queue partitions on the production shape, measured with hookflow's own workflows: for each
 * partition count a fresh stack (temporal-server on PostgreSQL, one receiver, two workers), N events
 * sent as fast as the receiver accepts them, events/s from the first send to the last processed.
 *
 *   bash scripts/bootstrap-prod.sh && node dist/bench/prod-partitions.js [events=200] [counts=1,4]
 */
const EVENTS = Number(process.argv[2] ?? 200);
const COUNTS = (process.argv[3] ?? '1,4').split(',').map(Number);
const SECRET = `whsec_partitions_${randomBytes(8).toString('hex')}`;

async function measure(partitions: number): Promise<{ eventsPerSecond: number; seconds: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), `hookflow-partitions-${partitions}-`));
  const infra = await startProdInfra({
    dataDir,
    ports: await freeProdPorts(),
    dynamicConfig: {
      'matching.numTaskqueueReadPartitions': partitions,
      'matching.numTaskqueueWritePartitions': partitions,
    },
  });
  const receiverPort = await freePort();
  const processes = await startHookflowProcesses({
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      MONGO_URL: infra.mongoUrl('hookflow_partitions'),
      TEMPORAL_ADDRESS: infra.temporalAddress,
      STRIPE_WEBHOOK_SECRET: SECRET,
    },
    receiverPorts: [receiverPort],
    workerMetricsPorts: [await freePort(), await freePort()],
    logDir: infra.logDir,
  }).catch(async (error: unknown) => {
    await infra.stop();
    throw error;
  });
  const db = await connectDatabase(infra.mongoUrl('hookflow_partitions'));
  try {
    const bodies = Array.from({ length: EVENTS }, () =>
      JSON.stringify(stripeEvent('customer.updated', stripeObject('customer', { id: uniqueId('cus') }))),
    );
    const began = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < bodies.length) {
          const body = bodies[next++]!;
          const response = await fetch(`http://127.0.0.1:${receiverPort}/webhooks/stripe`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json', 'stripe-signature': signatureHeader(body, SECRET) },
          });
          if (!response.ok) throw new Error(`receiver answered ${response.status}`);
        }
      }),
    );
    for (;;) {
      const processed = await db.models.StripeEvent.countDocuments({ status: 'processed' });
      if (processed >= EVENTS) break;
      if (Date.now() - began > 600_000) throw new Error(`only ${processed}/${EVENTS} processed after 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const seconds = (Date.now() - began) / 1000;
    return { eventsPerSecond: EVENTS / seconds, seconds };
  } finally {
    await db.close();
    await processes.stop();
    await infra.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  for (const partitions of COUNTS) {
    const { eventsPerSecond, seconds } = await measure(partitions);
    const row = `partitions ${partitions}: ${EVENTS} events in ${seconds.toFixed(1)} s = ${eventsPerSecond.toFixed(1)} events/s`;
    process.stdout.write(row + '\n');
    rows.push(row);
  }
  process.stdout.write(`\n${rows.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
