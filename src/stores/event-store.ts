import { randomBytes } from 'node:crypto';
import type { EventStatus } from '../contracts';
import type { EventSummary } from '../stripe/event-summary';
import { isDuplicateKeyError } from './duplicate-key';
import { eventKey, type InboxDoc, type Models, type StripeEventDoc } from './event-models';

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
      results.push({ duplicate: true, needsStart: !existing || !isTerminal(existing.status) });
    }
    return { inboxId, results };
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

  async markStatus(
    tenantId: string,
    eventId: string,
    status: EventStatus,
    fields: { outcome?: string | null; error?: string | null; reason?: string | null } = {},
  ): Promise<void> {
    await this.models.StripeEvent.updateOne(
      { _id: eventKey(tenantId, eventId) },
      { $set: { status, ...fields, ...(isTerminal(status) ? { processedAt: new Date() } : {}) } },
    );
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
