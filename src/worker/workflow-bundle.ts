import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../version';

/**
 * Workflow code bundled ahead of time (Temporal's advice for production workers): bundling with
 * webpack at worker start costs seconds and leaves a few hundred MiB of bundler memory in the
 * worker process. `scripts/bootstrap.sh` writes the bundle after compiling; a worker started from
 * a build whose workflow code is newer than the bundle bundles in-process as before.
 */
export const WORKFLOW_BUNDLE_PATH = join(REPO_ROOT, 'dist', 'workflow-bundle.js');
const WORKFLOWS_ENTRY = join(REPO_ROOT, 'dist', 'workflows', 'index.js');
/** Compiled files the bundle is made of: workflow code and the contracts module it imports. */
const BUNDLED_SOURCES = [join(REPO_ROOT, 'dist', 'workflows'), join(REPO_ROOT, 'dist', 'src', 'contracts.js')];

export async function writeWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_ENTRY, logger: silentLogger });
  writeFileSync(WORKFLOW_BUNDLE_PATH, code);
}

/** The prebuilt bundle when it is at least as new as every compiled workflow file, else undefined. */
export function prebuiltWorkflowBundle(): WorkflowBundleOption | undefined {
  if (!existsSync(WORKFLOW_BUNDLE_PATH)) return undefined;
  const bundled = statSync(WORKFLOW_BUNDLE_PATH).mtimeMs;
  return BUNDLED_SOURCES.every((path) => newestMtime(path) <= bundled) ? { codePath: WORKFLOW_BUNDLE_PATH } : undefined;
}

export function workflowBundleIsFresh(): boolean {
  return prebuiltWorkflowBundle() !== undefined;
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

const noop = () => undefined;
const silentLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

// `node dist/src/worker/workflow-bundle.js`: the bootstrap's bundling step (skipped when fresh).
if (require.main === module) {
  if (workflowBundleIsFresh()) process.exit(0);
  writeWorkflowBundle().catch((error: unknown) => {
    process.stderr.write(`bundling workflow code failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
