import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../config';
import type { Logger } from '../logger';
import { startLocalStack } from '../stack/local-stack';
import { REPO_ROOT } from '../version';
import type { RunningReceiver } from './receiver';
import type { RunningWorker } from './worker';

export const DEV_DATA_DIR = join(REPO_ROOT, '.data');

/**
 * `hookflow dev`: the embedded stack (Temporal dev server + FerretDB under `.data/`), then the
 * worker and receiver in this process. Data survives restarts; Ctrl-C stops everything.
 *
 * A restart is dominated by waiting, so the waits overlap: the stack's processes boot while this
 * process loads the worker and receiver code (a few seconds of module loading), and the worker and
 * receiver connect at the same time. Temporal's logging is installed before any worker exists.
 */
export async function runDev(env: NodeJS.ProcessEnv, log: Logger): Promise<() => Promise<void>> {
  mkdirSync(DEV_DATA_DIR, { recursive: true });
  const stackStarting = startLocalStack({
    dataDir: DEV_DATA_DIR,
    temporalPort: 7233,
    temporalUiPort: 8233,
    mongoPort: 27017,
  });
  stackStarting.catch(() => undefined); // awaited below; no unhandled rejection while code loads
  const [{ startWorker }, { startReceiver }, { installTemporalLogging }] = await Promise.all([
    import('./worker'),
    import('./receiver'),
    import('../temporal/runtime-logging'),
  ]);
  installTemporalLogging(log, 'warn');
  const stack = await stackStarting;
  const secret = env.STRIPE_WEBHOOK_SECRET ?? devWebhookSecret();
  // The admin page and /api work out of the box locally: a generated token, kept like the secret.
  const adminToken = env.HOOKFLOW_ADMIN_TOKEN ?? devAdminToken();
  let config: Config;
  let worker: RunningWorker;
  let receiver: RunningReceiver;
  try {
    config = loadConfig({
      ...env,
      MONGO_URL: env.MONGO_URL ?? stack.mongoUrl('hookflow'),
      TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS ?? stack.temporalAddress,
      STRIPE_WEBHOOK_SECRET: secret,
      HOOKFLOW_ADMIN_TOKEN: adminToken,
      // "Open in Temporal UI" links from the admin page and `events show` point at the dev UI.
      ...(stack.uiUrl && !env.TEMPORAL_UI_URL ? { TEMPORAL_UI_URL: stack.uiUrl } : {}),
    });
    const started = await Promise.allSettled([startWorker(config, log), startReceiver(config, log)]);
    const [workerStarted, receiverStarted] = started;
    if (workerStarted.status === 'rejected' || receiverStarted.status === 'rejected') {
      await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)));
      throw workerStarted.status === 'rejected'
        ? workerStarted.reason
        : (receiverStarted as PromiseRejectedResult).reason;
    }
    worker = workerStarted.value;
    receiver = receiverStarted.value;
  } catch (error) {
    await stack.stop();
    throw error;
  }

  const usingDevSecret = env.STRIPE_WEBHOOK_SECRET === undefined;
  process.stdout.write(
    [
      '',
      'hookflow is running',
      `  receiver      ${receiver.url}/webhooks/stripe`,
      `  Temporal UI   ${stack.uiUrl}`,
      `  admin page    ${receiver.url}/admin   token ${env.HOOKFLOW_ADMIN_TOKEN === undefined ? `${adminToken} (generated, kept in .data/dev-admin-token)` : 'from HOOKFLOW_ADMIN_TOKEN'}`,
      `  Temporal      ${stack.temporalAddress}   MongoDB (FerretDB) ${config.mongoUrl}`,
      usingDevSecret
        ? `  signing secret ${secret}  (generated, kept in .data/dev-webhook-secret; set STRIPE_WEBHOOK_SECRET to use your own)`
        : '  signing secret from STRIPE_WEBHOOK_SECRET',
      '  Ctrl-C stops everything; data stays in .data/',
      '',
    ].join('\n') + '\n',
  );

  return async () => {
    await receiver.close();
    await worker.close();
    await stack.stop();
  };
}

const DEV_SECRET_FILE = join(DEV_DATA_DIR, 'dev-webhook-secret');

export function readDevWebhookSecret(): string | undefined {
  return existsSync(DEV_SECRET_FILE) ? readFileSync(DEV_SECRET_FILE, 'utf8').trim() : undefined;
}

/** A stable local secret so `npm run dev` works before Stripe is involved. */
function devWebhookSecret(): string {
  const existing = readDevWebhookSecret();
  if (existing) return existing;
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  writeFileSync(DEV_SECRET_FILE, secret + '\n', { mode: 0o600 });
  return secret;
}

const DEV_ADMIN_TOKEN_FILE = join(DEV_DATA_DIR, 'dev-admin-token');

/** A stable local admin token (sign-in of the admin page, bearer of /api) for `npm run dev`. */
function devAdminToken(): string {
  if (existsSync(DEV_ADMIN_TOKEN_FILE)) return readFileSync(DEV_ADMIN_TOKEN_FILE, 'utf8').trim();
  const token = randomBytes(18).toString('base64url');
  writeFileSync(DEV_ADMIN_TOKEN_FILE, token + '\n', { mode: 0o600 });
  return token;
}
