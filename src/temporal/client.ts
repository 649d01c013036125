import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';

export interface TemporalClient {
  client: Client;
  connection: Connection;
  /** Cheap round trip proving the frontend and namespace answer (used by /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function connectTemporal(config: Config['temporal']): Promise<TemporalClient> {
  const connection = await Connection.connect({ address: config.address, connectTimeout: '5s' });
  const client = new Client({ connection, namespace: config.namespace });
  return {
    client,
    connection,
    async ping() {
      await connection.workflowService.describeNamespace({ namespace: config.namespace });
    },
    async close() {
      await connection.close();
    },
  };
}
