import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../src/version';
import { testStack } from './setup/global-stack';

/**
 * Histories of processStripeEvent recorded before business handlers ran in the object state's local
 * activity: `npm run dev`, one `hookflow trigger` per type (the `-with-endpoint` ones with an
 * outbound endpoint subscribed to `*`), each saved by
 * `node dist/test/helpers/record-history.js <workflow id> <file>`. Their recorded state results have
 * no `business`, so today's workflow code must take the old path — handler, messages and outcome as
 * their own local activities — and match every recorded command.
 */
const HISTORIES = join(REPO_ROOT, 'test', 'histories', 'process-stripe-event-before-one-local-activity');

describe('processStripeEvent runs recorded before business handlers ran in the state activity', () => {
  for (const file of readdirSync(HISTORIES).filter((name) => name.endsWith('.binpb'))) {
    it(`replays ${file.replace(/\.binpb$/, '')} without a nondeterminism error`, async () => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES, file)));
      await Worker.runReplayHistory({ workflowBundle: testStack().workflowBundle }, history);
    });
  }
});
