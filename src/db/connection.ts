import mongoose, { type Connection } from 'mongoose';
import { bindModels, type Models } from '../stores/event-models';

export interface Database {
  connection: Connection;
  models: Models;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a dedicated connection, binds the models and builds their indexes. autoIndex is off so
 * index creation is one awaited step, not a race with the first write.
 */
export async function connectDatabase(url: string): Promise<Database> {
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
  const models = bindModels(connection);
  await Promise.all([
    models.StripeEvent.createIndexes(),
    models.PendingEvent.createIndexes(),
    models.ObjectState.createIndexes(),
    models.ObjectChild.createIndexes(),
  ]);
  return {
    connection,
    models,
    async ping() {
      await connection.db!.admin().command({ ping: 1 });
    },
    async close() {
      await connection.close();
    },
  };
}
