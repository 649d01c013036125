import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/version';
import type { RunningHookflow } from './hookflow';

export const ADMIN_TOKEN = 'admin-token-for-support-tests-0123';
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `hookflow …` as an operator runs it, against the test hookflow's database and Temporal. */
export function runCli(hookflow: RunningHookflow, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const { config } = hookflow;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_LEVEL: 'silent',
        MONGO_URL: config.mongoUrl,
        TEMPORAL_ADDRESS: config.temporal.address,
        TEMPORAL_NAMESPACE: config.temporal.namespace,
        TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
        HOOKFLOW_DEFAULT_TENANT: config.defaultTenant,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An admin API call with the bearer token; JSON in, JSON out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are read field by field
type Json = Record<string, any>;

export async function api(
  hookflow: RunningHookflow,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${hookflow.baseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
