import type { EventSummary } from '../stripe/event-summary';
import { eventKey, isDuplicateKeyError, type EventStatus, type Models, type StripeEventDoc } from './models';

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
        receivedAt: new Date(),
      });
      return { duplicate: false, needsStart: true };
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    // Read only: the event's workflow may be updating this document right now (see models.ts).
    const existing = await this.models.StripeEvent.findOne({ _id: eventKey(tenantId, summary.eventId) })
      .select({ status: 1 })
      .lean();
    return { duplicate: true, needsStart: existing?.status === 'received' };
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

  /**
   * The reconciler's work list: events stored before `receivedBefore` whose processing never began,
   * and events stuck `processing` since before `stalledBefore` — their workflow died without
   * recording an outcome (e.g. the database was down longer than its retries). Starting either is
   * idempotent: a running workflow is reused, a completed one is not repeated.
   */
  async findStalled(
    receivedBefore: Date,
    stalledBefore: Date,
    limit: number,
  ): Promise<Array<Pick<StripeEventDoc, 'tenantId' | 'eventId' | 'rawBody'>>> {
    return this.models.StripeEvent.find({
      $or: [
        { status: 'received', receivedAt: { $lt: receivedBefore } },
        { status: 'processing', receivedAt: { $lt: stalledBefore } },
      ],
    })
      .sort({ receivedAt: 1 })
      .limit(limit)
      .select({ tenantId: 1, eventId: 1, rawBody: 1 })
      .lean();
  }
}
