import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One pino logger per process. Bodies, signatures and secrets are never logged; the redact list
 * is a second line of defence for headers that reach a log by accident.
 */
export function createLogger(level: string, name = 'hookflow'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers["stripe-signature"]', 'headers["stripe-signature"]', '*.secret', '*.secrets'],
      censor: '[redacted]',
    },
  });
}
