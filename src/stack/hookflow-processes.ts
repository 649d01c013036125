import { join } from 'node:path';
import { REPO_ROOT } from '../version';
import { waitFor } from './local-stack';
import { startManagedProcess, type ManagedProcess } from './managed-process';
import { productionProcessEnv } from '../processes/node-options';
import { isListening } from './ports';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface HookflowProcessesOptions {
  /** Environment of every process (MONGO_URL, TEMPORAL_ADDRESS, STRIPE_WEBHOOK_SECRET, …); PORT and WORKER_METRICS_PORT are set per process. */
  env: NodeJS.ProcessEnv;
  /** One `hookflow serve` per port. */
  receiverPorts: number[];
  /** One `hookflow worker` per port (its Prometheus endpoint, which also says it is up). */
  workerMetricsPorts: number[];
  logDir: string;
  startTimeoutMs?: number;
}

export interface HookflowProcesses {
  receivers: ManagedProcess[];
  workers: ManagedProcess[];
  receiverUrls: string[];
  stop(): Promise<void>;
}

/**
 * hookflow's production processes as separate `node dist/src/cli/main.js serve|worker` children,
 * configured by environment variables only, with the production image's heap settings
 * (src/processes/node-options.ts; an `env.NODE_OPTIONS` replaces them), as a deployment runs them.
 * Receivers stop first (no new events), then the workers drain (SIGTERM: in-flight work finishes
 * within SHUTDOWN_GRACE_SECONDS).
 */
export async function startHookflowProcesses(options: HookflowProcessesOptions): Promise<HookflowProcesses> {
  const receivers: ManagedProcess[] = [];
  const workers: ManagedProcess[] = [];
  const grace = (Number(options.env.SHUTDOWN_GRACE_SECONDS ?? 20) + 5) * 1000;
  const stop = async () => {
    await Promise.all(receivers.map((process) => process.stop(grace)));
    await Promise.all(workers.map((process) => process.stop(grace)));
  };
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  try {
    options.workerMetricsPorts.forEach((port, index) =>
      workers.push(
        startManagedProcess(
          `worker-${index + 1}`,
          process.execPath,
          [CLI, 'worker'],
          join(options.logDir, `worker-${index + 1}.log`),
          {
            ...productionProcessEnv('worker'),
            ...options.env,
            WORKER_METRICS_PORT: String(port),
          },
        ),
      ),
    );
    options.receiverPorts.forEach((port, index) =>
      receivers.push(
        startManagedProcess(
          `receiver-${index + 1}`,
          process.execPath,
          [CLI, 'serve'],
          join(options.logDir, `receiver-${index + 1}.log`),
          {
            ...productionProcessEnv('receiver'),
            ...options.env,
            PORT: String(port),
          },
        ),
      ),
    );
    await Promise.all([
      ...workers.map((worker, index) =>
        waitFor(worker, deadline, () => isListening(options.workerMetricsPorts[index]!)),
      ),
      ...receivers.map((receiver, index) => waitFor(receiver, deadline, () => healthy(options.receiverPorts[index]!))),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    receivers,
    workers,
    receiverUrls: options.receiverPorts.map((port) => `http://127.0.0.1:${port}`),
    stop,
  };
}

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}
