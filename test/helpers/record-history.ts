import { writeFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/**
 * Saves a workflow's history as binary protobuf for replay tests:
 * `node dist/test/helpers/record-history.js <workflow id> <file.binpb>` (TEMPORAL_ADDRESS, default
 * 127.0.0.1:7233). Binary, not the CLI's JSON: the SDK's `historyFromJSON` fails here
 * ("type must be a Type") because npm installs three copies of protobufjs 8 next to grpc's 7.
 */
async function main(workflowId: string, file: string) {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(file, temporal.api.history.v1.History.encode(history).finish());
  } finally {
    await connection.close();
  }
}

const [workflowId, file] = process.argv.slice(2);
if (!workflowId || !file) {
  process.stderr.write('usage: record-history <workflow id> <file.binpb>\n');
  process.exit(2);
}
main(workflowId, file).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
