import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
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
 * Routes the Temporal SDK's own logs (worker, workflow `log`, activity `log`) into pino, so every
 * line is structured and carries its metadata (workflow id, activity type, event id).
 * Must run once, before any worker or native connection is created.
 */
export function installTemporalLogging(log: Logger, level: string): void {
  const temporalLevel = LEVELS[level] ?? 'WARN';
  Runtime.install({
    logger: new DefaultLogger(temporalLevel, (entry) => {
      const method =
        entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      log[method]({ ...entry.meta, source: 'temporal' }, entry.message);
    }),
  });
}
