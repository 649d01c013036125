import type { EventSummary } from '../stripe/event-summary';
import type { EventStatus } from '../contracts';
import { isDuplicateKeyError } from './duplicate-key';
import { eventKey, type Models, type PendingEventDoc, type StripeEventDoc } from './event-models';

export interface RecordReceivedInput {
  tenantId: string;
  summary: EventSummary;
  rawBody: string;
  workflowId: string;
}

export interface RecordReceivedResult {
  duplicate: boolean;
  /** Processing has not begun: (re)starting the workflow is due, and idempotent. */
  needsStart: boolean;
}

/**
 * The durable record of every verified event. A unique (tenant, event id) index is the lasting
 * dedupe: Temporal's retention is shorter than Stripe's 3-day retry window.
 */
export class EventLedger {
  constructor(private readonly models: Models) {}

  async recordReceived(input: RecordReceivedInput): Promise<RecordReceivedResult> {
    const { tenantId, summary } = input;
    const receivedAt = new Date();
    try {
      await this.models.StripeEvent.create({
        _id: eventKey(tenantId, summary.eventId),
        tenantId,
        eventId: summary.eventId,
        type: summary.type,
        resource: summary.resource,
        objectId: summary.objectId,
        customerId: summary.customerId,
        livemode: summary.livemode,
        apiVersion: summary.apiVersion,
        eventCreated: summary.created,
        rawBody: input.rawBody,
        status: 'received',
        workflowId: input.workflowId,
        receivedAt,
      });
      await this.markPending(tenantId, summary.eventId, receivedAt);
      return { duplicate: false, needsStart: true };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // Read only: the event's workflow may be updating this document right now (see models.ts).
    const existing = await this.models.StripeEvent.findOne({ _id: eventKey(tenantId, summary.eventId) })
      .select({ status: 1, receivedAt: 1 })
      .lean();
    const needsStart = existing?.status === 'received';
    // A first delivery that died between the two inserts left no pending row: this one adds it.
    if (needsStart) await this.markPending(tenantId, summary.eventId, existing.receivedAt);
    return { duplicate: true, needsStart };
  }

  private async markPending(tenantId: string, eventId: string, receivedAt: Date): Promise<void> {
    try {
      await this.models.PendingEvent.create({ _id: eventKey(tenantId, eventId), tenantId, eventId, receivedAt });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
  }

  /** The outcome is recorded: the event leaves the reconciler's work list. */
  async clearPending(tenantId: string, eventId: string): Promise<void> {
    await this.models.PendingEvent.deleteOne({ _id: eventKey(tenantId, eventId) });
  }

  async find(tenantId: string, eventId: string): Promise<StripeEventDoc | null> {
    return this.models.StripeEvent.findOne({ _id: eventKey(tenantId, eventId) }).lean();
  }

  async markStatus(
    tenantId: string,
    eventId: string,
    status: EventStatus,
    fields: { outcome?: string | null; error?: string | null } = {},
  ): Promise<void> {
    const terminal = status === 'processed' || status === 'failed';
    await this.models.StripeEvent.updateOne(
      { _id: eventKey(tenantId, eventId) },
      { $set: { status, ...fields, ...(terminal ? { processedAt: new Date() } : {}) } },
    );
  }

  /** Pending events received before `receivedBefore`, oldest first (the reconciler's work list). */
  async findPending(receivedBefore: Date, limit: number): Promise<PendingEventDoc[]> {
    return this.models.PendingEvent.find({ receivedAt: { $lt: receivedBefore } })
      .sort({ receivedAt: 1 })
      .limit(limit)
      .lean();
  }
}
