import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/logger';
import { startLocalStack, type LocalStack } from '../../src/stack/local-stack';
import { installTemporalLogging } from '../../src/temporal/runtime-logging';
import { freePort } from '../../src/stack/ports';
import { prebuiltWorkflowBundle } from '../../src/worker/workflow-bundle';

/**
 * One real stack for the whole run (Temporal dev server + FerretDB), on free ports and in a
 * temporary directory, so it never touches a developer's `npm run dev` stack. Workflow code is
 * bundled once and handed to every worker the tests create.
 */
export interface TestStack {
  stack: LocalStack;
  workflowBundle: WorkflowBundleOption;
}

let current: TestStack | undefined;
let dataDir: string | undefined;

export function testStack(): TestStack {
  if (!current) throw new Error('the test stack is not running (mochaGlobalSetup did not run)');
  return current;
}

export async function mochaGlobalSetup(): Promise<void> {
  // Worker chatter (state changes, activity logs) would drown the test report; failures still show,
  // one line each, through the same filter as the processes (no task tokens, no expected notices).
  installTemporalLogging(createLogger('warn', 'temporal'), 'warn');
  dataDir = mkdtempSync(join(tmpdir(), 'hookflow-test-'));
  const started = Date.now();
  const [stack, workflowBundle] = await Promise.all([
    startTestStack(dataDir),
    prebuiltWorkflowBundle() ??
      bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger }),
  ]);
  current = { stack, workflowBundle };
  process.stdout.write(`  test stack up in ${Date.now() - started} ms (Temporal ${stack.temporalAddress})\n`);
}

/**
 * A port found free can be taken by another process before the server binds it (several test runs
 * on one machine): start again on fresh ports, a couple of times, before giving up.
 */
async function startTestStack(dataDir: string, attempts = 3): Promise<LocalStack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalStack({
        dataDir: join(dataDir, `stack-${attempt}`),
        temporalPort: await freePort(),
        // The Temporal UI too: the browser tests check that operators find workflows in it.
        temporalUiPort: await freePort(),
        mongoPort: await freePort(),
        ephemeral: true,
      });
    } catch (error) {
      if (attempt >= attempts) throw error;
      process.stdout.write(`  test stack did not start (${(error as Error).message.split('\n')[0]}); retrying\n`);
    }
  }
}

export async function mochaGlobalTeardown(): Promise<void> {
  await current?.stack.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
