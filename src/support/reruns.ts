import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import type { bulkRerunEvents } from '../../workflows';
import { bulkRerunWorkflowId } from '../contracts';
import type { Stores } from '../stores';
import { RerunRefusedByStore, type BulkRerunJob, type ClaimedRerun } from '../stores/event-store';
import type { RerunRecord, RerunTrigger } from '../stores/rerun-store';
import { startEventRerun } from '../temporal/event-workflows';
import {
  EventNotFound,
  parseEventFilter,
  parseEventId,
  storeFilterOf,
  type EventFilter,
  locateEvent,
} from './event-queries';

/**
 * Re-runs (design "Re-run"), shared by `POST /api/events/:id/rerun`, `POST /api/reruns`,
 * `hookflow rerun` and the admin page:
 * - a failed event runs again under its own workflow id (ALLOW_DUPLICATE_FAILED_ONLY) with all its
 *   search attributes; a processed one only with `force`, under `stripe-event:<t>:<evt>:rerun:<n>`;
 * - every re-run is an audit record (who, when, why, trigger, previous and new run ids, result);
 * - a bulk re-run is a Temporal workflow of its own (`bulk-rerun:<tenant>`, one per tenant at a
 *   time): rate limited, progress written to its job record, cancellable; it re-checks each event
 *   and re-runs only those whose current status is failed.
 */

export const MAX_REASON_LENGTH = 1_000;
const MAX_ACTOR_LENGTH = 100;

/** Bad input (reason missing or too long, malformed id or filter, a bulk filter on another status). HTTP 400. */
export class InvalidRerunRequest extends Error {
  override readonly name = 'InvalidRerunRequest';
  constructor(
    readonly code: 'invalid_reason' | 'invalid_actor' | 'invalid_filter' | 'invalid_id',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The event's current state forbids it: `not_failed` (processed; use force), `in_progress` (a run is
 * going on or about to), `completed_run` (Temporal holds a completed run under the id). HTTP 409.
 */
export class RerunRefused extends Error {
  override readonly name = 'RerunRefused';
  constructor(
    readonly code: 'not_failed' | 'in_progress' | 'completed_run',
    message: string,
  ) {
    super(message);
  }
}

/** The bulk plan matches more failed events than HOOKFLOW_RERUN_MAX_EVENTS (or none). HTTP 422. */
export class BulkRerunRejected extends Error {
  override readonly name = 'BulkRerunRejected';
  constructor(
    readonly code: 'plan_too_large' | 'nothing_to_rerun',
    message: string,
  ) {
    super(message);
  }
}

/** A bulk re-run of this tenant is running already (one per tenant at a time). HTTP 409. */
export class BulkRerunRunning extends Error {
  override readonly name = 'BulkRerunRunning';
  constructor(
    message: string,
    readonly jobId: string | null,
  ) {
    super(message);
  }
}

/** No bulk re-run job with this id. HTTP 404. */
export class BulkRerunNotFound extends Error {
  override readonly name = 'BulkRerunNotFound';
}

export interface RerunEventInput {
  eventId: string;
  /** Needed only when the id is stored under several tenants. */
  tenantId?: string;
  reason: string;
  /** The admin session's display name, `cli:<os user>`, or `api`. */
  by: string;
  /** Re-run a processed event under a derived workflow id. */
  force?: boolean;
  /** Set by the bulk job for the events it re-runs. */
  bulkJobId?: string;
}

export interface RerunOutcome {
  rerun: RerunRecord;
}

export interface BulkRerunPlan {
  tenantId: string;
  /** Normalized filter (status failed, times as ISO dates): what the job will query. */
  filter: Record<string, string>;
  /** Currently failed events matching, counted up to `cap + 1`. */
  count: number;
  cap: number;
  overCap: boolean;
  /** The newest matching event ids (at most `preview`). */
  firstEventIds: string[];
}

export interface BulkRerunInput {
  /** Query-string form: tenant, status (failed only), type, object, customer, account, since, until. */
  filter: Record<string, unknown>;
  reason: string;
  by: string;
}

export type { BulkRerunJob } from '../stores/event-store';

export interface RerunServiceDeps {
  stores: Pick<Stores, 'events' | 'reruns' | 'tenants'>;
  temporal: { client: Client; taskQueue: string };
  defaultTenant: string;
  limits: {
    /** HOOKFLOW_RERUN_MAX_EVENTS: a bulk plan over this is refused (narrow the filter). */
    maxBulkEvents: number;
    /** HOOKFLOW_RERUN_RATE: events a bulk job starts per second. */
    bulkPerSecond: number;
  };
  /** hookflow_reruns_total{trigger,result} of the process that starts them. */
  observe?: (trigger: RerunTrigger, result: 'started' | 'refused' | 'start_failed') => void;
}

export interface RerunService {
  rerunEvent(input: RerunEventInput): Promise<RerunOutcome>;
  planBulkRerun(filter: Record<string, unknown>, preview?: number): Promise<BulkRerunPlan>;
  startBulkRerun(input: BulkRerunInput): Promise<BulkRerunJob>;
  getBulkRerun(jobId: string): Promise<BulkRerunJob>;
  cancelBulkRerun(jobId: string, by: string): Promise<BulkRerunJob>;
  /** The bulk job's own steps (activities): one page of currently failed events, and one event. */
  failedEventsPage(
    filter: Record<string, string>,
    cursor: string | null,
    limit: number,
  ): Promise<{ eventIds: string[]; cursor: string | null }>;
}

export const BULK_JOB_ID_PATTERN = /^rr_[0-9a-f]{16}$/;

export function parseReason(reason: unknown): string {
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    throw new InvalidRerunRequest('invalid_reason', 'A reason is required: say why the event is re-run.');
  }
  if (reason.length > MAX_REASON_LENGTH) {
    throw new InvalidRerunRequest(
      'invalid_reason',
      `The reason is ${reason.length} characters; at most ${MAX_REASON_LENGTH} are kept.`,
    );
  }
  return reason.trim();
}

export function parseActor(by: unknown): string {
  if (typeof by !== 'string' || by.trim().length === 0 || by.length > MAX_ACTOR_LENGTH) {
    throw new InvalidRerunRequest('invalid_actor', `by must be a name of 1 to ${MAX_ACTOR_LENGTH} characters.`);
  }
  return by.trim();
}

export function parseBulkJobId(value: string): string {
  if (!BULK_JOB_ID_PATTERN.test(value)) {
    throw new InvalidRerunRequest(
      'invalid_id',
      `'${value.slice(0, 80)}' is not a bulk re-run id (rr_ and 16 hex digits).`,
    );
  }
  return value;
}

/** The derived id of a forced re-run: the completed original keeps its id and history. */
export function forcedRerunWorkflowId(workflowId: string, seq: number): string {
  return `${workflowId}:rerun:${seq}`;
}

export function createRerunService(deps: RerunServiceDeps): RerunService {
  const { stores, temporal } = deps;
  const observe = deps.observe ?? (() => undefined);

  async function startClaimed(claim: ClaimedRerun, trigger: RerunTrigger): Promise<RerunRecord> {
    const { record } = claim;
    try {
      const started = await startEventRerun(temporal.client, temporal.taskQueue, {
        tenantId: record.tenantId,
        summary: claim.summary,
        workflowId: record.workflowId,
        forced: record.forced,
      });
      if (started.alreadyCompleted) {
        await stores.events.abandonRerun(record, 'start_failed');
        observe(trigger, 'refused');
        throw new RerunRefused(
          'completed_run',
          `Temporal holds a completed run of ${record.workflowId}: re-run it with force (a derived workflow id).`,
        );
      }
      await stores.reruns.setRun(record.tenantId, record.eventId, record.seq, started.runId);
      observe(trigger, 'started');
      return { ...record, runId: started.runId };
    } catch (error) {
      if (error instanceof RerunRefused) throw error;
      await stores.events.abandonRerun(record, 'start_failed').catch(() => undefined);
      observe(trigger, 'start_failed');
      throw error;
    }
  }

  async function rerunOne(input: RerunEventInput, trigger: RerunTrigger): Promise<RerunRecord> {
    const eventId = parseEventId(input.eventId);
    const reason = parseReason(input.reason);
    const by = parseActor(input.by);
    const located = await locateEvent(stores, deps.defaultTenant, eventId, input.tenantId);
    let claim: ClaimedRerun;
    try {
      claim = await stores.events.claimRerun({
        tenantId: located.tenantId,
        eventId,
        trigger,
        by,
        reason,
        force: input.force === true,
        bulkJobId: input.bulkJobId ?? null,
        forcedWorkflowId: forcedRerunWorkflowId,
      });
    } catch (error) {
      if (error instanceof RerunRefusedByStore) {
        observe(trigger, 'refused');
        throw new RerunRefused(error.code, error.message);
      }
      throw error;
    }
    return startClaimed(claim, trigger);
  }

  function normalizeFilter(raw: Record<string, unknown>): { tenantId: string; filter: Record<string, string> } {
    const parsed: EventFilter = parseEventFilter(raw);
    if (parsed.status !== undefined && parsed.status !== 'failed') {
      throw new InvalidRerunRequest(
        'invalid_filter',
        'A bulk re-run picks failed events only: leave status out or set it to failed.',
      );
    }
    const tenantId = parsed.tenantId ?? deps.defaultTenant;
    const filter: Record<string, string> = { tenant: tenantId, status: 'failed' };
    if (parsed.type) filter.type = parsed.type;
    if (parsed.objectId) filter.object = parsed.objectId;
    if (parsed.customerId) filter.customer = parsed.customerId;
    if (parsed.accountId) filter.account = parsed.accountId;
    if (parsed.since) filter.since = parsed.since.toISOString();
    if (parsed.until) filter.until = parsed.until.toISOString();
    return { tenantId, filter };
  }

  async function failedEventsPage(filter: Record<string, string>, cursor: string | null, limit: number) {
    const parsed = parseEventFilter(filter);
    const rows = await stores.events.listEvents(
      {
        ...storeFilterOf({ ...parsed, status: 'failed' }, parsed.tenantId ?? deps.defaultTenant),
        before: cursor ?? undefined,
      },
      limit,
    );
    return {
      eventIds: rows.map((row) => row.eventId),
      cursor: rows.length < limit ? null : rows.at(-1)!.listKey,
    };
  }

  async function jobOrThrow(jobId: string): Promise<BulkRerunJob> {
    const job = await stores.events.getBulkRerun(parseBulkJobId(jobId));
    if (!job) throw new BulkRerunNotFound(`No bulk re-run ${jobId}.`);
    return job.state === 'running' ? settleIfClosed(job) : job;
  }

  /**
   * The job writes its own final state; a job record still `running` whose workflow has closed
   * ended some other way (terminated, timed out, a bug): it is marked so instead of running forever.
   */
  async function settleIfClosed(job: BulkRerunJob): Promise<BulkRerunJob> {
    let status: string;
    try {
      status = (await chainHandle(job).describe()).status.name;
    } catch {
      return job; // Temporal unreachable or the run is past retention: the record is all we know.
    }
    if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return job;
    // Re-read: the workflow may have written its final state between the two reads.
    const latest = (await stores.events.getBulkRerun(job.id)) ?? job;
    if (latest.state !== 'running') return latest;
    const state = status === 'CANCELLED' ? 'cancelled' : status === 'COMPLETED' ? 'completed' : 'failed';
    const lastError = state === 'failed' ? `the job's workflow ended ${status}` : latest.lastError;
    await stores.events.updateBulkRerun(job.id, { state, lastError, finishedAt: new Date() });
    return { ...latest, state, lastError };
  }

  /** The job's workflow chain (it continues as new): addressed by its first run id. */
  function chainHandle(job: BulkRerunJob) {
    return temporal.client.workflow.getHandle(job.workflowId, undefined, {
      firstExecutionRunId: job.runId ?? undefined,
    });
  }

  return {
    async rerunEvent(input) {
      return { rerun: await rerunOne(input, input.bulkJobId ? 'bulk' : 'manual') };
    },

    async planBulkRerun(raw, preview = 10) {
      const { tenantId, filter } = normalizeFilter(raw);
      const cap = deps.limits.maxBulkEvents;
      let count = 0;
      let cursor: string | null = null;
      const firstEventIds: string[] = [];
      // Counted by pages of the indexed list query, and only up to cap + 1: a plan never reads more.
      do {
        const page = await failedEventsPage(filter, cursor, Math.min(200, cap + 1 - count));
        if (firstEventIds.length < preview)
          firstEventIds.push(...page.eventIds.slice(0, preview - firstEventIds.length));
        count += page.eventIds.length;
        cursor = page.cursor;
      } while (cursor && count <= cap);
      return { tenantId, filter, count, cap, overCap: count > cap, firstEventIds };
    },

    async startBulkRerun(input) {
      const reason = parseReason(input.reason);
      const by = parseActor(input.by);
      const plan = await this.planBulkRerun(input.filter, 0);
      if (plan.overCap) {
        throw new BulkRerunRejected(
          'plan_too_large',
          `More than ${plan.cap} failed events match: narrow the filter (type, since, until) or raise HOOKFLOW_RERUN_MAX_EVENTS.`,
        );
      }
      if (plan.count === 0) throw new BulkRerunRejected('nothing_to_rerun', 'No failed event matches the filter.');
      const jobId = `rr_${randomBytes(8).toString('hex')}`;
      const workflowId = bulkRerunWorkflowId(plan.tenantId);
      const job = await stores.events.createBulkRerun({
        id: jobId,
        tenantId: plan.tenantId,
        filter: plan.filter,
        reason,
        by,
        planned: plan.count,
        workflowId,
      });
      try {
        const handle = await temporal.client.workflow.start<typeof bulkRerunEvents>('bulkRerunEvents', {
          taskQueue: temporal.taskQueue,
          workflowId,
          args: [{ jobId, filter: plan.filter, perSecond: deps.limits.bulkPerSecond, cursor: null, done: 0 }],
          // One bulk re-run per tenant at a time: a running one makes this start fail.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          memo: { jobId },
        });
        await stores.events.updateBulkRerun(jobId, { runId: handle.firstExecutionRunId });
        return { ...job, runId: handle.firstExecutionRunId };
      } catch (error) {
        await stores.events.deleteBulkRerun(jobId);
        if (error instanceof WorkflowExecutionAlreadyStartedError) {
          const running = await runningJobOf(temporal.client, workflowId);
          throw new BulkRerunRunning(
            `A bulk re-run of tenant ${plan.tenantId} is running${running ? ` (${running})` : ''}: wait for it or cancel it first.`,
            running,
          );
        }
        throw error;
      }
    },

    getBulkRerun: jobOrThrow,

    async cancelBulkRerun(jobId, by) {
      const job = await jobOrThrow(jobId);
      const who = parseActor(by);
      if (job.state !== 'running') return job;
      await stores.events.updateBulkRerun(job.id, { cancelledBy: who });
      try {
        await chainHandle(job).cancel();
      } catch (error) {
        // The run closed in between: its final state is on the job record already.
        if (!(error instanceof Error && error.name === 'WorkflowNotFoundError')) throw error;
      }
      return (await stores.events.getBulkRerun(job.id)) ?? job;
    },

    failedEventsPage,
  };
}

async function runningJobOf(client: Client, workflowId: string): Promise<string | null> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    const jobId = description.memo?.jobId;
    return typeof jobId === 'string' ? jobId : null;
  } catch {
    return null;
  }
}

export { EventNotFound };
