import type { Logger } from '../logger';

/**
 * Runs `close` once on SIGINT/SIGTERM; a second signal, or the grace period running out, exits
 * at once. Orchestrators send SIGTERM and expect in-flight work to drain.
 */
export function closeOnSignals(close: () => Promise<void>, log: Logger, graceSeconds: number): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    closing = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ graceSeconds }, 'shutdown grace period over: exiting');
      process.exit(1);
    }, graceSeconds * 1000);
    timer.unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
