import mongoose, { type Connection } from 'mongoose';
import { ensureStoreIndexes, openStores, type StoreOptions, type Stores } from '../stores';
import type { Models } from '../stores/event-models';

export interface Database {
  connection: Connection;
  stores: Stores;
  /** Raw models, for tests and the benchmark's direct prefill only: application code uses `stores`. */
  models: Models;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a dedicated connection, binds the stores and builds their indexes. autoIndex is off so
 * index creation is one awaited step, not a race with the first write. Processes pass
 * `storeOptionsFromConfig(config)` (master key, outbound allow list); tests and tools that only
 * read may leave it out.
 */
export async function connectDatabase(url: string, options: StoreOptions = {}): Promise<Database> {
  const connection = mongoose.createConnection(url, {
    autoIndex: false,
    autoCreate: true,
    // Fail fast instead of queueing writes while disconnected: the receiver must answer 503 so
    // Stripe retries, not hang until Stripe's own timeout.
    bufferCommands: false,
    serverSelectionTimeoutMS: 5_000,
    // FerretDB 1.x has no retryable writes (no sessions); MongoDB does not need them for upserts.
    retryWrites: false,
  });
  await connection.asPromise();
  const { stores, models } = openStores(connection, options);
  await ensureStoreIndexes(connection);
  return {
    connection,
    stores,
    models,
    async ping() {
      await connection.db!.admin().command({ ping: 1 });
    },
    async close() {
      await connection.close();
    },
  };
}
