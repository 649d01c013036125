import { randomBytes } from 'node:crypto';
import type { EventStatus } from '../contracts';
import { summarizeEvent, type EventSummary } from '../stripe/event-summary';
import { isDuplicateKeyError } from './duplicate-key';
import { eventKey, listKey, type InboxDoc, type Models, type StripeEventDoc } from './event-models';
import { withLock } from './locks';
import { rerunKey, type RerunRecord, type RerunResult, type RerunTrigger } from './rerun-store';

export interface ReceivedEvent {
  tenantId: string;
  summary: EventSummary;
  /** The verified request body exactly as it was parsed. */
  rawBody: string;
  workflowId: string;
}

export interface RecordedEvent {
  duplicate: boolean;
  /** The outcome is not recorded yet: starting the workflow is due (and idempotent). */
  needsStart: boolean;
  /** A redelivery of a failed event restarted it: its audit record (trigger `redelivery`). */
  restarted?: RerunRecord;
}

/** The support list's filter for one tenant (EventStore.listEvents). */
export interface EventListFilter {
  tenantId: string;
  status?: string;
  /** Exact, or a prefix when it ends in `.*` (`charge.dispute.*`). */
  type?: string;
  objectId?: string;
  customerId?: string;
  /** Stripe Connect: the connected account (`account` of the event). */
  account?: string;
  since?: Date;
  until?: Date;
  /** Only rows with a list key before this one (the cursor). */
  before?: string;
}

/** A listed event: the stored record without its body. */
export type ListedEvent = Omit<StripeEventDoc, 'rawBody' | 'fetchedBody'> & { listKey: string };

/** Why EventStore.claimRerun refused. */
export class RerunRefusedByStore extends Error {
  override readonly name = 'RerunRefusedByStore';
  constructor(
    readonly code: 'not_failed' | 'in_progress',
    message: string,
  ) {
    super(message);
  }
}

export interface ClaimRerunInput {
  tenantId: string;
  eventId: string;
  trigger: RerunTrigger;
  by: string;
  reason: string;
  force: boolean;
  bulkJobId: string | null;
  /** How a forced re-run's workflow id derives from the event's (reruns.ts owns the scheme). */
  forcedWorkflowId: (workflowId: string, seq: number) => string;
}

export interface ClaimedRerun {
  record: RerunRecord;
  /** What the workflow start needs (search attributes), read from the stored body. */
  summary: EventSummary;
}

export type BulkRerunState = 'running' | 'completed' | 'cancelled' | 'failed';

export interface BulkRerunJob {
  id: string;
  tenantId: string;
  filter: Record<string, string>;
  reason: string;
  by: string;
  state: BulkRerunState;
  planned: number;
  started: number;
  skipped: number;
  failedStarts: number;
  lastError: string | null;
  workflowId: string;
  runId: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  cancelledBy: string | null;
}

export interface RecordedBatch {
  /** The inbox entry listing this batch; release it once every event's workflow is started. */
  inboxId: string;
  results: RecordedEvent[];
}

export interface InboxEntry {
  id: string;
  eventKeys: string[];
  receivedAt: Date;
  attempts: number;
  notBefore: Date;
}

/**
 * The durable record of every verified event (collection `stripe_events`) and the start inbox
 * (`event_inbox`). A unique (tenant, event id) index is the lasting dedupe: Temporal's retention is
 * shorter than Stripe's 3-day retry window. Every access on the per-event path is an `_id`
 * equality — the only filter FerretDB's SQLite backend answers from an index (see event-models.ts).
 */
export class EventStore {
  constructor(private readonly models: Models) {}

  /**
   * Group commit: stores a batch of verified deliveries with two writes whatever its size — the
   * inbox entry listing their keys, then the events in one unordered insert (FerretDB runs it as one
   * SQLite transaction, falling back to one insert per event only when one of them is a duplicate).
   * A delivery whose event is stored already is a duplicate; it still needs a start while its
   * outcome is not recorded (a first delivery whose start was lost).
   */
  async recordBatch(batch: ReceivedEvent[]): Promise<RecordedBatch> {
    const receivedAt = new Date();
    const inboxId = `inbox:${receivedAt.getTime()}:${randomBytes(6).toString('hex')}`;
    const keys = batch.map((item) => eventKey(item.tenantId, item.summary.eventId));
    // The inbox entry first: a crash between the two writes leaves keys without events (skipped by
    // the reconciler), never events that nobody will start.
    await this.models.Inbox.collection.insertOne({
      _id: inboxId as never,
      eventKeys: keys,
      receivedAt,
      attempts: 0,
      notBefore: receivedAt,
    });
    const duplicates = await this.insertEvents(
      batch.map((item, index) => this.eventDocument(keys[index]!, item, receivedAt)),
    );
    const results: RecordedEvent[] = [];
    for (const [index, key] of keys.entries()) {
      if (!duplicates.has(index)) {
        results.push({ duplicate: false, needsStart: true });
        continue;
      }
      // Read only: the event's workflow may be updating this document right now (event-models.ts).
      const existing = await this.models.StripeEvent.findOne({ _id: key }).select({ status: 1 }).lean();
      if (existing?.status === 'failed') {
        results.push(await this.restartOnRedelivery(batch[index]!, receivedAt));
        continue;
      }
      results.push({ duplicate: true, needsStart: !existing || !isTerminal(existing.status) });
    }
    return { inboxId, results };
  }

  /**
   * Stripe redelivered an event whose processing failed ("Resend" in the Dashboard, `stripe events
   * resend`, or Stripe's own retries after a 5xx elsewhere): it runs again under its own workflow
   * id, audited as a re-run by `stripe`. What users expect from "Resend", and the failed run's
   * cause may well be fixed by now. A processed event is never run again by a redelivery.
   */
  private async restartOnRedelivery(item: ReceivedEvent, receivedAt: Date): Promise<RecordedEvent> {
    try {
      const claim = await this.claimRerun({
        tenantId: item.tenantId,
        eventId: item.summary.eventId,
        trigger: 'redelivery',
        by: 'stripe',
        reason: 'Stripe redelivered the failed event',
        force: false,
        bulkJobId: null,
        forcedWorkflowId: (id) => id,
        lastReceivedAt: receivedAt,
      });
      return { duplicate: true, needsStart: true, restarted: claim.record };
    } catch (error) {
      // Someone re-ran it a moment ago (it is no longer failed): a plain duplicate.
      if (error instanceof RerunRefusedByStore) return { duplicate: true, needsStart: false };
      throw error;
    }
  }

  /** A batch of one: catch-up, tests and tools that store a single event. */
  async recordReceived(item: ReceivedEvent): Promise<RecordedEvent & { inboxId: string }> {
    const { inboxId, results } = await this.recordBatch([item]);
    return { ...results[0]!, inboxId };
  }

  /** Every event of the inbox entry has its workflow started: Temporal owns them from here. */
  async releaseInbox(inboxId: string): Promise<void> {
    await this.models.Inbox.deleteOne({ _id: inboxId });
  }

  /**
   * The reconciler's work list: the oldest `limit` inbox entries in insertion order. Unfiltered
   * and unsorted on purpose — FerretDB then pushes the `LIMIT` down and reads `limit` rows, where
   * any filter or sort would decode the whole collection.
   */
  async inboxEntries(limit: number): Promise<InboxEntry[]> {
    const docs = await this.models.Inbox.find({}).limit(limit).lean<Array<InboxDoc & { _id: string }>>();
    return docs.map((doc) => ({
      id: doc._id,
      eventKeys: doc.eventKeys,
      receivedAt: doc.receivedAt,
      attempts: doc.attempts ?? 0,
      notBefore: doc.notBefore,
    }));
  }

  /**
   * Some events of an entry could not be started: a new entry with just those goes to the back of
   * the inbox with a later `notBefore`, so a failing event backs off and never blocks newer ones.
   */
  async requeueInbox(entry: InboxEntry, remainingKeys: string[], retryAt: Date): Promise<void> {
    const id = `inbox:${entry.receivedAt.getTime()}:${randomBytes(6).toString('hex')}`;
    await this.models.Inbox.collection.insertOne({
      _id: id as never,
      eventKeys: remainingKeys,
      receivedAt: entry.receivedAt,
      attempts: entry.attempts + 1,
      notBefore: retryAt,
    });
    await this.releaseInbox(entry.id);
  }

  /**
   * An event whose workflow can never be started (Temporal refuses it, or it failed past the
   * reconciler's budget) ends as `failed` with the reason, like a processing failure, so support
   * sees it and can re-run it. Nothing else writes the document: its workflow never started.
   */
  async markStartFailed(key: string, reason: string): Promise<void> {
    await this.models.StripeEvent.updateOne(
      { _id: key },
      { $set: { status: 'failed', outcome: 'failed', error: reason, processedAt: new Date() } },
    );
  }

  async find(tenantId: string, eventId: string): Promise<StripeEventDoc | null> {
    return this.findByKey(eventKey(tenantId, eventId));
  }

  async findByKey(key: string): Promise<StripeEventDoc | null> {
    return this.models.StripeEvent.findOne({ _id: key }).lean();
  }

  /**
   * Stores what a thin notification's activity fetched (EventStore keeps the notification itself as
   * `rawBody`): one `_id` update, written by the event's own workflow before it applies the event.
   */
  async recordFetched(tenantId: string, eventId: string, fetchedBody: string): Promise<void> {
    await this.models.StripeEvent.updateOne({ _id: eventKey(tenantId, eventId) }, { $set: { fetchedBody } });
  }

  async markStatus(
    tenantId: string,
    eventId: string,
    status: EventStatus,
    fields: { outcome?: string | null; error?: string | null; reason?: string | null } = {},
    /** The run recording it (support view: current workflow and run id). */
    run?: { workflowId: string; runId: string },
  ): Promise<void> {
    await this.models.StripeEvent.updateOne(
      { _id: eventKey(tenantId, eventId) },
      {
        $set: {
          status,
          ...fields,
          ...(isTerminal(status) ? { processedAt: new Date() } : {}),
          ...(run ? { currentWorkflowId: run.workflowId, runId: run.runId } : {}),
        },
      },
    );
  }

  /**
   * The support list: newest first, at most `limit` rows, without bodies. Every filter is an
   * equality on an indexed field plus a range on `listKey` (since/until/cursor), sorted by
   * `listKey` — on MongoDB an index range; on FerretDB pushed down to the SQLite expression index
   * by the patched build (scripts/bootstrap.sh). test/support-events.test.ts checks the plan.
   */
  async listEvents(filter: EventListFilter, limit: number): Promise<ListedEvent[]> {
    const query: Record<string, unknown> = { tenantId: filter.tenantId };
    // `processing` is not stored (event-queries.ts): an unfinished event is stored as `received`.
    if (filter.status) query.status = filter.status === 'processing' ? 'received' : filter.status;
    if (filter.type?.endsWith('.*')) {
      // `charge.dispute.*` → the range ['charge.dispute.', 'charge.dispute/'): '/' follows '.'.
      const prefix = filter.type.slice(0, -1);
      query.type = { $gte: prefix, $lt: `${prefix.slice(0, -1)}/` };
    } else if (filter.type) {
      query.type = filter.type;
    }
    if (filter.objectId) query.objectId = filter.objectId;
    if (filter.customerId) query.customerId = filter.customerId;
    if (filter.account) query.account = filter.account;
    const range: Record<string, string> = {};
    // The list key starts with the ISO receive time: a time bound is a key bound.
    if (filter.since) range.$gte = filter.since.toISOString();
    const upper = [filter.until?.toISOString(), filter.before].filter((key): key is string => key !== undefined);
    if (upper.length > 0) range.$lt = upper.sort()[0]!;
    query.listKey = Object.keys(range).length > 0 ? range : { $gt: '' };
    return this.models.StripeEvent.find(query)
      .select({ rawBody: 0, fetchedBody: 0 })
      .sort({ listKey: -1 })
      .limit(limit)
      .lean<ListedEvent[]>();
  }

  /**
   * Claims a re-run of one event under its lock: checks the current status (failed; processed only
   * with `force`), counts the re-run on the event, writes its audit record and sets the event back
   * to `received`. The caller then starts the workflow (or calls abandonRerun). The lock makes two
   * concurrent re-runs of one event one re-run and one refusal, FerretDB's updates being unisolated.
   */
  async claimRerun(input: ClaimRerunInput & { lastReceivedAt?: Date }): Promise<ClaimedRerun> {
    const key = eventKey(input.tenantId, input.eventId);
    return withLock(this.models.Lock, `event:${key}`, async () => {
      const doc = await this.models.StripeEvent.findOne({ _id: key }).lean();
      if (!doc) throw new RerunRefusedByStore('in_progress', `event ${input.eventId} is not stored`);
      if (doc.status === 'processed' && !input.force) {
        throw new RerunRefusedByStore(
          'not_failed',
          `${input.eventId} was processed (${doc.outcome ?? 'no outcome'}): re-running it needs force, which runs it under a derived workflow id.`,
        );
      }
      if (doc.status !== 'processed' && doc.status !== 'failed') {
        throw new RerunRefusedByStore(
          'in_progress',
          `${input.eventId} is ${doc.status}: its run has not finished, nothing to re-run yet.`,
        );
      }
      const seq = (doc.reruns ?? 0) + 1;
      const now = new Date();
      const forced = doc.status === 'processed';
      const previousWorkflowId = doc.currentWorkflowId ?? doc.workflowId;
      // The previous re-run (if any) ended as the event is now.
      if (seq > 1) {
        await this.models.Rerun.updateOne(
          { _id: rerunKey(input.tenantId, input.eventId, seq - 1) },
          { $set: { result: doc.status as RerunResult, ...(doc.runId ? { runId: doc.runId } : {}) } },
        );
      }
      const record: RerunRecord = {
        tenantId: input.tenantId,
        eventId: input.eventId,
        seq,
        trigger: input.trigger,
        by: input.by,
        reason: input.reason,
        at: now,
        forced,
        bulkJobId: input.bulkJobId,
        previousStatus: doc.status,
        previousWorkflowId,
        previousRunId: doc.runId ?? null,
        workflowId: forced ? input.forcedWorkflowId(doc.workflowId, seq) : doc.workflowId,
        runId: null,
        result: 'started',
      };
      await this.models.Rerun.collection.insertOne({
        _id: rerunKey(input.tenantId, input.eventId, seq) as never,
        ...record,
      });
      await this.models.StripeEvent.updateOne(
        { _id: key },
        {
          $set: {
            status: 'received',
            reruns: seq,
            currentWorkflowId: record.workflowId,
            ...(input.lastReceivedAt ? { lastReceivedAt: input.lastReceivedAt } : {}),
          },
        },
      );
      return { record, summary: summarizeEvent(JSON.parse(doc.rawBody) as Parameters<typeof summarizeEvent>[0]) };
    });
  }

  /** The claimed re-run could not start: the event returns to its previous status, the audit says why. */
  async abandonRerun(record: RerunRecord, result: Extract<RerunResult, 'start_failed'>): Promise<void> {
    const key = eventKey(record.tenantId, record.eventId);
    await withLock(this.models.Lock, `event:${key}`, async () => {
      await this.models.Rerun.updateOne(
        { _id: rerunKey(record.tenantId, record.eventId, record.seq) },
        { $set: { result } },
      );
      await this.models.StripeEvent.updateOne(
        { _id: key },
        { $set: { status: record.previousStatus, currentWorkflowId: record.previousWorkflowId } },
      );
    });
  }

  async createBulkRerun(input: {
    id: string;
    tenantId: string;
    filter: Record<string, string>;
    reason: string;
    by: string;
    planned: number;
    workflowId: string;
  }): Promise<BulkRerunJob> {
    const now = new Date();
    const job: BulkRerunJob = {
      ...input,
      state: 'running',
      started: 0,
      skipped: 0,
      failedStarts: 0,
      lastError: null,
      runId: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
      cancelledBy: null,
    };
    const { id, ...fields } = job;
    await this.models.BulkRerun.collection.insertOne({ _id: id as never, ...fields });
    return job;
  }

  async getBulkRerun(id: string): Promise<BulkRerunJob | null> {
    const doc = await this.models.BulkRerun.findOne({ _id: id }).lean<Record<string, unknown> | null>();
    if (!doc) return null;
    const { _id, ...rest } = doc;
    return { id: String(_id), ...rest } as unknown as BulkRerunJob;
  }

  /** Written by the job's workflow (progress, final state) and by cancel (who): one writer at a time each. */
  async updateBulkRerun(
    id: string,
    fields: Partial<Omit<BulkRerunJob, 'id' | 'tenantId' | 'filter' | 'createdAt'>>,
  ): Promise<void> {
    await this.models.BulkRerun.updateOne({ _id: id }, { $set: { ...fields, updatedAt: new Date() } });
  }

  async deleteBulkRerun(id: string): Promise<void> {
    await this.models.BulkRerun.deleteOne({ _id: id });
  }

  private eventDocument(key: string, item: ReceivedEvent, receivedAt: Date) {
    const { summary } = item;
    return {
      _id: key,
      tenantId: item.tenantId,
      eventId: summary.eventId,
      type: summary.type,
      resource: summary.resource,
      objectId: summary.objectId,
      customerId: summary.customerId,
      account: summary.account ?? null,
      livemode: summary.livemode,
      apiVersion: summary.apiVersion,
      eventCreated: summary.created,
      rawBody: item.rawBody,
      status: 'received' as EventStatus,
      outcome: null,
      error: null,
      workflowId: item.workflowId,
      receivedAt,
      processedAt: null,
      listKey: listKey(receivedAt, summary.eventId),
      reruns: 0,
    };
  }

  /** Inserts unordered; returns the indexes that were duplicates. Any other error fails the batch. */
  private async insertEvents(docs: Array<Record<string, unknown>>): Promise<Set<number>> {
    try {
      await this.models.StripeEvent.collection.insertMany(docs as never[], { ordered: false });
      return new Set();
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
      const list = (Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : []) as Array<{
        index: number;
        code: number;
      }>;
      if (list.length === 0 && docs.length === 1 && isDuplicateKeyError(error)) return new Set([0]);
      if (list.length === 0 || list.some((entry) => entry.code !== 11000)) throw error;
      return new Set(list.map((entry) => entry.index));
    }
  }
}

function isTerminal(status: string): boolean {
  return status === 'processed' || status === 'failed';
}
