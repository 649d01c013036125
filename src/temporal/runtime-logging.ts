import { DefaultLogger, Runtime, type LogEntry, type LogLevel } from '@temporalio/worker';
import { types } from 'node:util';
import type { Logger } from '../logger';

const LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
};

/**
 * SDK notices that describe hookflow's design rather than a problem: the Clerk worker runs
 * activities only, so it is meant not to poll for workflow tasks. Logged at debug, not warn.
 */
const EXPECTED_NOTICES = new Set(['No workflows registered, not polling for workflow tasks']);

/**
 * Routes the Temporal SDK's own logs (worker, workflow `log`, activity `log`) into pino, so every
 * line is structured and carries its metadata (workflow id, activity type, event id).
 * Must run once, before any worker or native connection is created.
 */
export function installTemporalLogging(log: Logger, level: string): void {
  const temporalLevel = LEVELS[level] ?? 'WARN';
  Runtime.install({ logger: new DefaultLogger(temporalLevel, temporalLogSink(log)) });
}

/**
 * One SDK log entry → one pino line. The activity task token is dropped (an opaque credential that
 * completes the task, long and useless in a log), and errors become `{type, message, cause}`:
 * pino would print an Error that is not under `err` as `{}`, and a workflow's errors come from the
 * workflow sandbox's realm, where `instanceof Error` is false.
 */
export function temporalLogSink(log: Logger): (entry: LogEntry) => void {
  return (entry) => {
    const level = EXPECTED_NOTICES.has(entry.message) ? 'DEBUG' : entry.level;
    const method = level === 'TRACE' ? 'trace' : (level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
    log[method]({ ...loggableMeta(entry.meta), source: 'temporal' }, entry.message);
  };
}

function loggableMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (key === 'taskToken') continue;
    fields[key] = types.isNativeError(value) ? describeError(value) : value;
  }
  return fields;
}

interface FailureFields {
  type: string;
  message: string;
  cause?: FailureFields;
}

/**
 * Temporal failures name their kind in `type` (ApplicationFailure) or in the class name. A workflow's
 * errors reach this thread by structured clone (workflows run in worker threads), which keeps
 * message, stack and cause but turns every class into `Error` and drops `type`: the class name is
 * then read back from the first line of the stack (`ActivityFailure: Activity task failed`).
 */
function describeError(error: Error, depth = 0): FailureFields {
  const { type, cause } = error as { type?: unknown; cause?: unknown };
  const className =
    error.name !== 'Error' ? error.name : (/^([A-Za-z_$][\w$]*)(?::|\n|$)/.exec(error.stack ?? '')?.[1] ?? 'Error');
  return {
    type: typeof type === 'string' && type.length > 0 ? type : className,
    message: error.message,
    ...(types.isNativeError(cause) && depth < 4 ? { cause: describeError(cause, depth + 1) } : {}),
  };
}
