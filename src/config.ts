import { z } from 'zod';

/** Comma-separated list → trimmed, non-empty entries. */
const csv = z
  .string()
  .optional()
  .transform((value) => csvList(value ?? ''));

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const envSchema = z.object({
  /** Environment name; `production` turns off developer conveniences. */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Address the receiver binds; loopback unless deliberately exposed. */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Receiver port. */
  PORT: port(4242),
  /** pino level. */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** MongoDB (or FerretDB) connection string, database name included. */
  MONGO_URL: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// URL')
    .default('mongodb://127.0.0.1:27017/hookflow'),
  /** Temporal frontend gRPC address host:port. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^:\s]+:\d+$/, 'must be host:port')
    .default('127.0.0.1:7233'),
  /** Temporal namespace. */
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Task queue the worker polls and the receiver starts workflows on. */
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('hookflow'),
  /**
   * Signing secret(s) of the single default tenant. Several comma-separated secrets are all
   * accepted, which is how a secret is rotated without dropping deliveries.
   */
  STRIPE_WEBHOOK_SECRET: csv.pipe(z.array(z.string().startsWith('whsec_', 'each secret must start with whsec_'))),
  /** Tenant id used when a delivery names none. */
  HOOKFLOW_DEFAULT_TENANT: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('default'),
  /** Stripe signature tolerance in seconds (Stripe's own default is 300). */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  /** Largest accepted webhook body; Stripe events are far smaller. */
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Resources whose object state is kept (`*` = all); routing is by the first segment of the event type. */
  STATE_RESOURCES: z.string().default('*'),
  /** What happens to events of resources not selected above. */
  STATE_UNSELECTED: z.enum(['store', 'skip', 'fail']).default('store'),
  /** Seconds a stored event may wait for its workflow before the reconciler starts it. */
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().positive().default(30),
  /** How often the worker's reconciler looks for stored events whose workflow never started. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().positive().default(15),
  /** Seconds SIGTERM waits for in-flight work before forcing exit. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().positive().default(20),
});

export interface Config {
  env: 'development' | 'test' | 'production';
  http: { host: string; port: number; bodyLimitBytes: number };
  logLevel: string;
  mongoUrl: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  stripe: { webhookSecrets: string[]; toleranceSeconds: number };
  defaultTenant: string;
  state: { resources: '*' | string[]; unselected: 'store' | 'skip' | 'fail' };
  reconciler: { afterSeconds: number; intervalSeconds: number };
  shutdownGraceSeconds: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Builds the one validated config object; every bad variable is named in a single error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}\nSee .env.example for every variable.`);
  }
  const e = parsed.data;
  const resources = e.STATE_RESOURCES.trim() === '*' ? '*' : csvList(e.STATE_RESOURCES);
  return {
    env: e.NODE_ENV,
    http: { host: e.HOST, port: e.PORT, bodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES },
    logLevel: e.LOG_LEVEL,
    mongoUrl: e.MONGO_URL,
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE },
    stripe: { webhookSecrets: e.STRIPE_WEBHOOK_SECRET, toleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS },
    defaultTenant: e.HOOKFLOW_DEFAULT_TENANT,
    state: { resources, unselected: e.STATE_UNSELECTED },
    reconciler: { afterSeconds: e.RECONCILE_AFTER_SECONDS, intervalSeconds: e.RECONCILE_INTERVAL_SECONDS },
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
  };
}

function csvList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}
