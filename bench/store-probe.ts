import mongoose from 'mongoose';
import { round } from './load';

/**
 * Per-operation latency of the store at its current size, measured with the MongoDB driver
 * directly (no mongoose document layer): `ops` sequential random-key `findOne({_id})` and
 * `updateOne({_id}, {$set})` on stripe_events and object_state. The update sets only
 * `benchProbeAt`, a field hookflow never reads.
 */
export interface OpStats {
  ops: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  max_ms: number;
}

export interface ProbeResult {
  /** Events stored when probed (known to the caller: counting is a full scan on FerretDB). */
  stored_events: number;
  stripe_events: { findOne: OpStats; updateOne: OpStats; found: number };
  object_state: { findOne: OpStats; updateOne: OpStats; found: number };
}

export async function probeStore(
  mongoUrl: string,
  keys: { stripe_events: string[]; object_state: string[] },
  ops: number,
  storedEvents: number,
): Promise<ProbeResult> {
  const connection = mongoose.createConnection(mongoUrl, { serverSelectionTimeoutMS: 10_000, retryWrites: false });
  await connection.asPromise();
  try {
    const db = connection.db!;
    const result = { stored_events: storedEvents } as ProbeResult;
    for (const name of ['stripe_events', 'object_state'] as const) {
      const collection = db.collection<{ _id: string }>(name);
      const pool = keys[name];
      const pick = () => pool[Math.floor(Math.random() * pool.length)]!;
      const reads: number[] = [];
      const writes: number[] = [];
      let found = 0;
      for (let index = 0; index < ops && pool.length > 0; index++) {
        const began = performance.now();
        const document = await collection.findOne({ _id: pick() });
        reads.push(performance.now() - began);
        if (document) found++;
      }
      for (let index = 0; index < ops && pool.length > 0; index++) {
        const began = performance.now();
        await collection.updateOne({ _id: pick() }, { $set: { benchProbeAt: new Date() } });
        writes.push(performance.now() - began);
      }
      result[name] = { findOne: stats(reads), updateOne: stats(writes), found };
    }
    return result;
  } finally {
    await connection.close();
  }
}

function stats(samples: number[]): OpStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / (sorted.length || 1);
  return {
    ops: sorted.length,
    p50_ms: round(at(0.5), 2),
    p99_ms: round(at(0.99), 2),
    mean_ms: round(mean, 2),
    max_ms: round(sorted.at(-1) ?? 0, 2),
  };
}

/**
 * Support-list latency at the store's current size (EventStore.listEvents through the real store,
 * so the query shape is the product's): newest page, by status, by type wildcard, by object, by
 * customer, a time window, and the next page by cursor. `runs` sequential runs of each.
 */
export async function probeEventList(
  mongoUrl: string,
  tenantId: string,
  samples: { objectId: string; customerId: string },
  runs: number,
): Promise<Record<string, OpStats & { rows: number }>> {
  const { openStores } = await import('../src/stores');
  const connection = mongoose.createConnection(mongoUrl, { serverSelectionTimeoutMS: 10_000, retryWrites: false });
  await connection.asPromise();
  try {
    const { stores } = openStores(connection);
    const first = await stores.events.listEvents({ tenantId }, 50);
    const cursor = first.at(-1)?.listKey;
    const queries: Record<string, Parameters<typeof stores.events.listEvents>[0]> = {
      newest: { tenantId },
      status_failed: { tenantId, status: 'failed' },
      type_wildcard: { tenantId, type: 'charge.dispute.*' },
      object: { tenantId, objectId: samples.objectId },
      customer: { tenantId, customerId: samples.customerId },
      last_hour: { tenantId, since: new Date(Date.now() - 3_600_000) },
      next_page: { tenantId, before: cursor },
    };
    const result: Record<string, OpStats & { rows: number }> = {};
    // For comparison, a filter no index serves (outcome is not indexed): what every list query
    // cost before the pushdown patch, a full decode of the collection. Three runs: it is slow.
    const scans: number[] = [];
    let scanned = 0;
    for (let index = 0; index < 3; index++) {
      const began = performance.now();
      scanned = (
        await connection
          .db!.collection('stripe_events')
          .find({ tenantId, outcome: 'failed' }, { projection: { rawBody: 0 } })
          .sort({ listKey: -1 })
          .limit(50)
          .toArray()
      ).length;
      scans.push(performance.now() - began);
    }
    result.unindexed_outcome = { ...stats(scans), rows: scanned };
    for (const [name, filter] of Object.entries(queries)) {
      const times: number[] = [];
      let rows = 0;
      for (let index = 0; index < runs; index++) {
        const began = performance.now();
        rows = (await stores.events.listEvents(filter, 50)).length;
        times.push(performance.now() - began);
      }
      result[name] = { ...stats(times), rows };
    }
    return result;
  } finally {
    await connection.close();
  }
}
