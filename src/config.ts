import { isIP } from 'node:net';
import { z } from 'zod';
import { MasterKey, MasterKeyError } from './tenants/master-key';

/** Comma-separated list → trimmed, non-empty entries. */
const csv = z
  .string()
  .optional()
  .transform((value) => csvList(value ?? ''));

/** Unset or blank → null, so an empty `KEY=` line in an env file means "not configured". */
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? null : value.trim()));

/** WORKER_MAX_CACHED_WORKFLOWS when unset (see there). */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 200;

/** WORKFLOW_START_CONCURRENCY when unset (see there). */
export const DEFAULT_WORKFLOW_START_CONCURRENCY = 4;

/** WORKER_NONSTICKY_POLL_RATIO when unset (see there); the SDK's own default is 0.2. */
export const DEFAULT_NONSTICKY_POLL_RATIO = 0.8;

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
  /**
   * 32-byte key (64 hex digits or base64) that encrypts secrets at rest with AES-256-GCM: tenants'
   * Stripe signing secrets and Clerk keys. Required once tenants are kept in the database; losing it
   * makes them unreadable. Generate with `openssl rand -base64 32`.
   */
  HOOKFLOW_MASTER_KEY: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      try {
        return MasterKey.parse(value);
      } catch (error) {
        if (!(error instanceof MasterKeyError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
        return z.NEVER;
      }
    }),
  /** Seconds a tenant lookup is reused by the receiver; a rotation or removal takes effect within it. */
  HOOKFLOW_TENANT_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /** Stripe signature tolerance in seconds (Stripe's own default is 300). */
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().positive().default(300),
  /** Largest accepted webhook body; Stripe events are far smaller. */
  WEBHOOK_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /**
   * Declared body bytes the receiver reads and holds at once (src/receiver/body-budget.ts): more
   * deliveries wait unread, and past four times this they are answered 429 (Stripe retries). Bounds
   * the receiver's memory under a storm of large bodies; a few thousand ordinary events fit.
   */
  WEBHOOK_INFLIGHT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  /** Resources whose object state is kept (`*` = all); routing is by the first segment of the event type. */
  STATE_RESOURCES: z.string().default('*'),
  /** What happens to events of resources not selected above. */
  STATE_UNSELECTED: z.enum(['store', 'skip', 'fail']).default('store'),
  /**
   * Workflow starts one receiver runs at once, after acknowledging (a delivery never waits for
   * Temporal): bounds the load a burst puts on Temporal. Few are enough: starting faster than the
   * workers finish only piles up Temporal's backlog while the workers wait (measured end to end:
   * 41.2 events/s with 32, 45.1 with 8, 50.3 with 4; README "Performance").
   */
  WORKFLOW_START_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(DEFAULT_WORKFLOW_START_CONCURRENCY),
  /**
   * Acknowledgement latency the receiver protects, ms: while more than 1 % of deliveries take
   * longer, it halves its workflow starts in flight (down to none), then adds one back every
   * 250 ms they do not; with no deliveries at all, starts run at WORKFLOW_START_CONCURRENCY
   * (src/receiver/start-pacer.ts). 0 turns pacing off.
   */
  WORKFLOW_START_ACK_TARGET_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  /** Starts a receiver queues beyond those in flight; past it new events are left to the reconciler. */
  WORKFLOW_START_QUEUE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  /** Most deliveries one group commit writes together (one inbox entry + one insert of the events). */
  INTAKE_MAX_BATCH: z.coerce.number().int().min(1).max(1_000).default(200),
  /** Seconds an inbox entry is left to its receiver before the reconciler starts its events. */
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().positive().default(30),
  /** How often the worker's reconciler looks for stored events whose workflow never started. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().positive().default(15),
  /**
   * Failed start attempts of an inbox entry (15 s doubling to 10 min apart) before its events that
   * still cannot be started are marked `failed` with the last error. An outage of Temporal or the
   * database does not count: it stops the pass instead.
   */
  RECONCILE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(10),
  /**
   * Workflow executions the worker keeps in memory between tasks (default below). Not the SDK's
   * default, which follows the V8 heap limit: ~2,300 with a 4 GiB heap (the cache, not the work,
   * then sets the worker's memory) and 10 under the production image's 160 MiB cap (which also
   * caps workflow tasks in flight at 10). Event workflows finish in well under a second, so a few
   * hundred covers every one in flight; evicted workflows are replayed from history on their next task.
   */
  WORKER_MAX_CACHED_WORKFLOWS: optionalString.pipe(
    z
      .string()
      .regex(/^\d{1,6}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(2, 'must be at least 2'))
      .nullable(),
  ),
  /**
   * Share of the worker's 10 workflow-task pollers that poll the task queue itself rather than its
   * sticky queue (the SDK's `nonStickyToStickyPollRatio`; at least one poller each). The SDK's 0.2
   * suits long workflows that come back to the worker that ran them; an event workflow is new and
   * finishes in its first task, so with 0.2 only 2 pollers fetch the work: measured, 37.7 events/s
   * end to end with 0.2 and 43.3 with 1 on the benchmark machine (README "Performance").
   */
  WORKER_NONSTICKY_POLL_RATIO: z.coerce.number().gt(0).max(1).default(DEFAULT_NONSTICKY_POLL_RATIO),
  /**
   * Activities and local activities one worker runs at once. Unset: as many as fit in half the V8
   * heap each holding the largest accepted event (src/worker/activity-slots.ts; 10 under the
   * production image's heap cap, 100 — the SDK's default — without one).
   */
  WORKER_ACTIVITY_SLOTS: optionalString.pipe(
    z
      .string()
      .regex(/^\d{1,4}$/, 'must be a whole number')
      .transform(Number)
      .pipe(z.number().min(1, 'must be at least 1').max(1_000))
      .nullable(),
  ),
  /** Port of the worker's Prometheus endpoint (`GET /metrics` on HOST); unset = no endpoint. */
  WORKER_METRICS_PORT: optionalString.pipe(
    z
      .string()
      .regex(/^\d{1,5}$/, 'must be a port number')
      .transform(Number)
      .pipe(z.number().max(65535))
      .nullable(),
  ),
  /** Seconds SIGTERM waits for in-flight work before forcing exit. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().positive().default(20),
  /**
   * Clerk Backend API secret key (`sk_live_…` / `sk_test_…`) used for tenants without their own Clerk
   * settings; unset means Clerk sync reports `clerk_not_configured` instead of failing.
   */
  CLERK_SECRET_KEY: optionalString,
  /** Clerk Backend API base URL; tests point it at a local fake. */
  CLERK_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.clerk.com'),
  /**
   * Clerk requests per second the worker may make (Clerk allows 100 per 10 s on development
   * instances, 1,000 per 10 s in production: https://clerk.com/docs/backend-requests/resources/rate-limits).
   */
  CLERK_MAX_REQUESTS_PER_SECOND: z.coerce.number().positive().default(8),
  /** Stripe metadata key that carries the payment-session id on charges and payment intents. */
  HOOKFLOW_SESSION_METADATA_KEY: z.string().min(1).max(40).default('hookflow_session_id'),
  /** Temporal Web UI base URL (e.g. `http://127.0.0.1:8233`) for "Open in Temporal UI" links; unset = no links. */
  TEMPORAL_UI_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).nullable()),
  /** Most events one bulk re-run may plan; a filter matching more is refused (narrow it). */
  HOOKFLOW_RERUN_MAX_EVENTS: z.coerce.number().int().min(1).max(100_000).default(1_000),
  /** Events a bulk re-run starts per second, so a large re-run never floods the workers. */
  HOOKFLOW_RERUN_RATE: z.coerce.number().positive().max(1_000).default(5),
  /**
   * Stripe secret or restricted key (`sk_live_…`, `sk_test_…`, `rk_…`) of the single default tenant,
   * for backfills, catch-up, thin events and same-second re-fetches; a read-only restricted key is
   * enough. Stored tenants carry their own (`tenants add --stripe-api-key-file`).
   */
  STRIPE_API_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^(sk|rk)_(live|test)_\S+$/, 'must be a Stripe secret or restricted key (sk_live_…, sk_test_…, rk_…)')
      .nullable(),
  ),
  /** Where Stripe API calls go (`protocol://host:port`); tests and `hookflow fake-stripe` point it at a local fake. */
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).default('https://api.stripe.com'),
  /** Seconds one Stripe API request may take before it fails (and Temporal retries it). */
  STRIPE_API_TIMEOUT_SECONDS: z.coerce.number().positive().max(300).default(30),
  /**
   * Stripe API requests per second all workers together make for live-mode keys, and for sandbox
   * (test-mode) keys, paced by fleet-wide rate slots in the database (src/stores/rate-slot-store.ts;
   * thin-event fetches and tie re-fetches are not paced). Stripe allows 100 reads/s live and 25 in a
   * sandbox (https://docs.stripe.com/rate-limits); the defaults leave room for the merchant's own calls.
   */
  STRIPE_API_LIVE_REQUESTS_PER_SECOND: z.coerce.number().positive().max(100).default(50),
  STRIPE_API_SANDBOX_REQUESTS_PER_SECOND: z.coerce.number().positive().max(25).default(20),
  /**
   * How often a Temporal Schedule runs catch-up for the default tenant (`15m`, `1h`; unset = no
   * schedule): each run feeds the events of the last CATCHUP_WINDOW that hookflow has not stored.
   */
  CATCHUP_SCHEDULE: optionalString.pipe(
    z
      .string()
      .regex(/^\d+(s|m|h)$/, 'must look like 30s, 15m or 1h')
      .nullable(),
  ),
  /**
   * Resources (first segment of the event type, as STATE_RESOURCES) whose objects are re-fetched from
   * the Stripe API on every event instead of trusting the payload — Stripe's advice where order
   * matters. Same-second ties are re-fetched for every resource once a key is configured.
   */
  REFETCH_RESOURCES: csv,
  /** How far back each scheduled catch-up looks; longer than the interval so runs overlap. */
  CATCHUP_WINDOW: z
    .string()
    .regex(/^\d+(s|m|h)$/, 'must look like 30m, 1h or 24h')
    .default('1h'),
  /** Bearer token of the admin API (`/api/*`); unset disables the API. */
  HOOKFLOW_ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').nullable()),
  /** CIDRs outbound webhooks may reach although private, loopback or link-local (e.g. `127.0.0.1/32`); empty = none. */
  HOOKFLOW_OUTBOUND_ALLOW: csv.pipe(z.array(z.string().refine(isCidr, 'each entry must be an IP address or CIDR'))),
  /** Seconds one outbound delivery attempt may take (Standard Webhooks: 15–30 s). */
  HOOKFLOW_OUTBOUND_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(15),
  /** Delays between outbound attempts after the immediate first one (`ms`, `s`, `m`, `h`); Standard Webhooks' schedule. */
  HOOKFLOW_OUTBOUND_RETRY_SCHEDULE: csv
    .pipe(z.array(z.string().regex(/^\d+(ms|s|m|h)$/, 'each delay must look like 500ms, 5s, 5m or 2h')))
    .transform((delays) => (delays.length > 0 ? delays : ['5s', '5m', '30m', '2h', '5h', '10h', '10h'])),
  /** Longest `Retry-After` (seconds) an endpoint may impose before its next attempt. */
  HOOKFLOW_OUTBOUND_MAX_RETRY_AFTER_SECONDS: z.coerce
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60),
});

/** Every environment variable `loadConfig` reads; the README's table and `.env.example` are checked against it. */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  env: 'development' | 'test' | 'production';
  http: { host: string; port: number; bodyLimitBytes: number; inFlightBytes: number };
  intake: {
    startConcurrency: number;
    startAckTargetMs: number;
    startQueueLimit: number;
    maxBatch: number;
  };
  logLevel: string;
  mongoUrl: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    /**
     * Worker's workflow cache size (loadConfig: WORKER_MAX_CACHED_WORKFLOWS, else 200). Absent or null
     * (in-process workers built without loadConfig) = the SDK's default, sized from the V8 heap limit.
     */
    maxCachedWorkflows?: number | null;
    /** WORKER_NONSTICKY_POLL_RATIO; absent = the SDK's default (in-process workers built without loadConfig). */
    nonStickyPollRatio?: number;
  };
  stripe: { webhookSecrets: string[]; toleranceSeconds: number };
  stripeApi: StripeApiConfig;
  defaultTenant: string;
  tenants: { masterKey: MasterKey | undefined; cacheSeconds: number };
  state: { resources: '*' | string[]; unselected: 'store' | 'skip' | 'fail' };
  reconciler: { afterSeconds: number; intervalSeconds: number; maxAttempts: number };
  /** Worker's Prometheus endpoint port, or null for none. */
  workerMetricsPort: number | null;
  /** WORKER_ACTIVITY_SLOTS; null = sized from the heap. */
  workerActivitySlots: number | null;
  shutdownGraceSeconds: number;
  clerk: { secretKey: string | null; apiUrl: string; maxRequestsPerSecond: number };
  sessions: { metadataKey: string };
  adminToken: string | null;
  /** Support view: Temporal UI links and bulk re-run limits. */
  support: { temporalUiUrl: string | null; rerunMaxEvents: number; rerunPerSecond: number };
  outbound: { allow: string[]; timeoutMs: number; retryScheduleMs: number[]; maxRetryAfterMs: number };
}

/** Stripe REST API access (backfill, catch-up, thin events, re-fetches). */
export interface StripeApiConfig {
  /** The default tenant's key, or null. */
  apiKey: string | null;
  /** `https://api.stripe.com` or a local fake. */
  base: string;
  timeoutMs: number;
  requestsPerSecond: { live: number; sandbox: number };
  /** REFETCH_RESOURCES. */
  refetchResources: string[];
  /** CATCHUP_SCHEDULE / CATCHUP_WINDOW: the interval (null = none) and the window, in seconds. */
  catchUp: { everySeconds: number | null; windowSeconds: number };
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
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: e.WEBHOOK_BODY_LIMIT_BYTES,
      inFlightBytes: e.WEBHOOK_INFLIGHT_BYTES,
    },
    intake: {
      startConcurrency: e.WORKFLOW_START_CONCURRENCY,
      startAckTargetMs: e.WORKFLOW_START_ACK_TARGET_MS,
      startQueueLimit: e.WORKFLOW_START_QUEUE_LIMIT,
      maxBatch: e.INTAKE_MAX_BATCH,
    },
    logLevel: e.LOG_LEVEL,
    mongoUrl: e.MONGO_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS ?? DEFAULT_MAX_CACHED_WORKFLOWS,
      nonStickyPollRatio: e.WORKER_NONSTICKY_POLL_RATIO,
    },
    stripe: { webhookSecrets: e.STRIPE_WEBHOOK_SECRET, toleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS },
    stripeApi: {
      apiKey: e.STRIPE_API_KEY,
      base: e.STRIPE_API_BASE,
      timeoutMs: Math.round(e.STRIPE_API_TIMEOUT_SECONDS * 1000),
      requestsPerSecond: {
        live: e.STRIPE_API_LIVE_REQUESTS_PER_SECOND,
        sandbox: e.STRIPE_API_SANDBOX_REQUESTS_PER_SECOND,
      },
      refetchResources: e.REFETCH_RESOURCES,
      catchUp: {
        everySeconds: e.CATCHUP_SCHEDULE === null ? null : durationMs(e.CATCHUP_SCHEDULE) / 1000,
        windowSeconds: durationMs(e.CATCHUP_WINDOW) / 1000,
      },
    },
    defaultTenant: e.HOOKFLOW_DEFAULT_TENANT,
    tenants: { masterKey: e.HOOKFLOW_MASTER_KEY, cacheSeconds: e.HOOKFLOW_TENANT_CACHE_SECONDS },
    state: { resources, unselected: e.STATE_UNSELECTED },
    reconciler: {
      afterSeconds: e.RECONCILE_AFTER_SECONDS,
      intervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
      maxAttempts: e.RECONCILE_MAX_ATTEMPTS,
    },
    workerMetricsPort: e.WORKER_METRICS_PORT,
    workerActivitySlots: e.WORKER_ACTIVITY_SLOTS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    clerk: {
      secretKey: e.CLERK_SECRET_KEY,
      apiUrl: e.CLERK_API_URL,
      maxRequestsPerSecond: e.CLERK_MAX_REQUESTS_PER_SECOND,
    },
    sessions: { metadataKey: e.HOOKFLOW_SESSION_METADATA_KEY },
    adminToken: e.HOOKFLOW_ADMIN_TOKEN,
    support: {
      temporalUiUrl: e.TEMPORAL_UI_URL,
      rerunMaxEvents: e.HOOKFLOW_RERUN_MAX_EVENTS,
      rerunPerSecond: e.HOOKFLOW_RERUN_RATE,
    },
    outbound: {
      allow: e.HOOKFLOW_OUTBOUND_ALLOW,
      timeoutMs: e.HOOKFLOW_OUTBOUND_TIMEOUT_SECONDS * 1000,
      retryScheduleMs: e.HOOKFLOW_OUTBOUND_RETRY_SCHEDULE.map(durationMs),
      maxRetryAfterMs: e.HOOKFLOW_OUTBOUND_MAX_RETRY_AFTER_SECONDS * 1000,
    },
  };
}

/** The master key, or a ConfigError saying how to set it, for the commands that need one. */
export function requireMasterKey(config: Config): MasterKey {
  if (!config.tenants.masterKey) {
    throw new ConfigError(
      'HOOKFLOW_MASTER_KEY is not set: tenant secrets are encrypted with it. Generate one with `openssl rand -base64 32` and keep it safe; losing it makes stored secrets unreadable.',
    );
  }
  return config.tenants.masterKey;
}

function csvList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

function isCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `5s`, `5m`, `2h` → milliseconds (the format is checked by the schema). */
function durationMs(delay: string): number {
  const [, amount, unit] = /^(\d+)(ms|s|m|h)$/.exec(delay)!;
  return Number(amount) * DURATION_UNITS_MS[unit!]!;
}
