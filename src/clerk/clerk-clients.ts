import { createClerkClient, type ClerkClient } from '@clerk/backend';
import type { Config } from '../config';

export type { ClerkClient };

/**
 * The Clerk client of a tenant, or null when the tenant has no Clerk configured (the activity then
 * reports `clerk_not_configured` instead of failing). A dependency, so per-tenant settings can
 * replace the global key without touching the activities.
 */
export type ClerkResolver = (tenantId: string) => Promise<ClerkClient | null>;

/**
 * Every tenant uses the global `CLERK_SECRET_KEY`. Built once: the client is a thin fetch wrapper
 * with no retries or pooling of its own (Temporal retries, the task queue rate-limits).
 */
export function createGlobalClerkResolver(clerk: Config['clerk']): ClerkResolver {
  const client = clerk.secretKey ? createClerkClient({ secretKey: clerk.secretKey, apiUrl: clerk.apiUrl }) : null;
  return async () => client;
}

/**
 * Most Clerk requests one Clerk activity makes: the organization's metadata, then the user's.
 * The rate limit is on requests, the task-queue limit on activities.
 */
export const MAX_CLERK_REQUESTS_PER_ACTIVITY = 2;

/**
 * `maxTaskQueueActivitiesPerSecond` for the worker that runs the Clerk activities, so the worker
 * pool as a whole stays under `CLERK_MAX_REQUESTS_PER_SECOND` (Temporal enforces the task-queue
 * limit server-side across all workers: https://docs.temporal.io/develop/worker-performance).
 */
export function clerkActivitiesPerSecond(clerk: Config['clerk']): number {
  return clerk.maxRequestsPerSecond / MAX_CLERK_REQUESTS_PER_ACTIVITY;
}

/**
 * Per-tenant Clerk settings (stored encrypted with the tenant) first, the global key otherwise.
 * Clients are kept per tenant for `cacheMs`, so a changed key is picked up without a restart.
 */
export function createTenantClerkResolver(
  clerk: Config['clerk'],
  tenantSettings: (tenantId: string) => Promise<{ secretKey: string | null; apiUrl: string | null } | null>,
  cacheMs = 60_000,
): ClerkResolver {
  const global = createGlobalClerkResolver(clerk);
  const cache = new Map<string, { expiresAt: number; client: Promise<ClerkClient | null> }>();
  return (tenantId) => {
    const hit = cache.get(tenantId);
    if (hit && hit.expiresAt > Date.now()) return hit.client;
    const client = tenantSettings(tenantId).then((settings) =>
      settings?.secretKey
        ? createClerkClient({ secretKey: settings.secretKey, apiUrl: settings.apiUrl ?? clerk.apiUrl })
        : global(tenantId),
    );
    // A failed lookup is not cached: the activity fails, Temporal retries, the next call looks again.
    client.catch(() => cache.delete(tenantId));
    cache.set(tenantId, { expiresAt: Date.now() + cacheMs, client });
    return client;
  };
}
