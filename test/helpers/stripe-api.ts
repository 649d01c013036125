import type { Client } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import type { backfillStripe } from '../../workflows';
import { backfillWorkflowId } from '../../src/contracts';

export const FAKE_KEY = 'sk_test_fake_0123456789';

/** Environment of a hookflow whose Stripe calls go to a fake (1 s request timeout, so a stalled page fails fast). */
export function stripeEnv(fakeUrl: string): Record<string, string> {
  return { STRIPE_API_KEY: FAKE_KEY, STRIPE_API_BASE: fakeUrl, STRIPE_API_TIMEOUT_SECONDS: '1' };
}

/** Starts a backfill run of the default tenant, as `hookflow backfill` does. */
export async function runBackfill(
  client: Client,
  taskQueue: string,
  resources: string[],
  options: { account?: string; since?: number | null } = {},
) {
  const runId = randomBytes(4).toString('hex');
  const handle = await client.workflow.start<typeof backfillStripe>('backfillStripe', {
    taskQueue,
    workflowId: backfillWorkflowId('default', runId),
    args: [{ tenantId: 'default', runId, resources, since: options.since ?? null, account: options.account }],
  });
  return { runId, handle };
}
