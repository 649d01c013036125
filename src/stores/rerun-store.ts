import type { Models } from './event-models';
import { eventKey } from './event-models';

/** Who asked for a re-run: support by hand, a bulk job, or Stripe redelivering a failed event. */
export const RERUN_TRIGGERS = ['manual', 'bulk', 'redelivery'] as const;
export type RerunTrigger = (typeof RERUN_TRIGGERS)[number];

/**
 * `started` until the run records an outcome; then `processed` or `failed` (filled in when the next
 * re-run is claimed, or read from the event while this is its latest run); `start_failed` when
 * Temporal refused the start (the event went back to its previous status).
 */
export type RerunResult = 'started' | 'processed' | 'failed' | 'start_failed';

/** One audit record per re-run (collection `event_reruns`), `_id` = rerunKey(). */
export interface RerunRecord {
  tenantId: string;
  eventId: string;
  /** 1 for the first re-run of the event, 2 for the second, … */
  seq: number;
  trigger: RerunTrigger;
  /** The admin session's display name, `cli:<os user>`, `api`, or `stripe` for a redelivery. */
  by: string;
  reason: string;
  at: Date;
  forced: boolean;
  /** The bulk job that ran it (trigger `bulk`). */
  bulkJobId: string | null;
  previousStatus: string;
  previousWorkflowId: string;
  previousRunId: string | null;
  workflowId: string;
  runId: string | null;
  result: RerunResult;
}

export const rerunKey = (tenantId: string, eventId: string, seq: number) =>
  `${eventKey(tenantId, eventId)}:rerun:${seq}`;

/**
 * The re-run audit trail. Records are keyed by (event, sequence number) and the event's `reruns`
 * counter says how many exist, so reading an event's history is `reruns` `_id` lookups — never a
 * scan on FerretDB, whatever the size of the trail. Written by EventStore.claimRerun under the
 * event's lock; this store only reads and completes them.
 */
export class RerunStore {
  constructor(private readonly models: Models) {}

  async get(tenantId: string, eventId: string, seq: number): Promise<RerunRecord | null> {
    const doc = await this.models.Rerun.findOne({ _id: rerunKey(tenantId, eventId, seq) }).lean();
    return doc ? recordOf(doc) : null;
  }

  /**
   * The event's re-runs, oldest first. The latest one still `started` takes its result and run id
   * from the event once the event's status is terminal again (`current`).
   */
  async listForEvent(
    tenantId: string,
    eventId: string,
    count: number,
    current?: { status: string; runId: string | null },
  ): Promise<RerunRecord[]> {
    const seqs = Array.from({ length: count }, (_, index) => index + 1);
    const docs = await Promise.all(seqs.map((seq) => this.get(tenantId, eventId, seq)));
    const records = docs.filter((doc): doc is RerunRecord => doc !== null);
    const latest = records.at(-1);
    if (latest && latest.result === 'started' && current && isTerminal(current.status)) {
      latest.result = current.status as RerunResult;
      latest.runId = latest.runId ?? current.runId;
    }
    return records;
  }

  /** The run Temporal started for the re-run (known after the start returns). */
  async setRun(tenantId: string, eventId: string, seq: number, runId: string): Promise<void> {
    await this.models.Rerun.updateOne({ _id: rerunKey(tenantId, eventId, seq) }, { $set: { runId } });
  }
}

function isTerminal(status: string): boolean {
  return status === 'processed' || status === 'failed';
}

function recordOf(doc: Record<string, unknown>): RerunRecord {
  const { _id, ...rest } = doc; // eslint-disable-line @typescript-eslint/no-unused-vars
  return rest as unknown as RerunRecord;
}
