import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { catchUpStripeEvents } from '../../workflows';

export interface CatchUpScheduleOptions {
  tenantId: string;
  taskQueue: string;
  everySeconds: number;
  windowSeconds: number;
}

/** `catch-up-schedule:<tenant>`: the Schedule's id (its runs are `catch-up:<tenant>:scheduled-<time>`). */
export function catchUpScheduleId(tenantId: string): string {
  return `catch-up-schedule:${tenantId}`;
}

/**
 * Creates (or updates to the configured interval) the Temporal Schedule that runs catch-up for a
 * tenant (CATCHUP_SCHEDULE). A run still going when the next is due is not doubled (SKIP).
 */
export async function ensureCatchUpSchedule(client: Client, options: CatchUpScheduleOptions): Promise<string> {
  const scheduleId = catchUpScheduleId(options.tenantId);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'catchUpStripeEvents',
    workflowId: `catch-up:${options.tenantId}:scheduled`,
    taskQueue: options.taskQueue,
    args: [{ tenantId: options.tenantId, runId: 'scheduled', windowSeconds: options.windowSeconds }] as Parameters<
      typeof catchUpStripeEvents
    >,
  };
  const spec = { intervals: [{ every: `${options.everySeconds}s` as const }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies }));
  }
  return scheduleId;
}
