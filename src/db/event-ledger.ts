import type { EventSummary } from '../stripe/event-summary';
import { isDuplicateKeyError, type EventStatus, type Models, type StripeEventDoc } from './models';

export interface RecordReceivedInput {
  tenantId: string;
  summary: EventSummary;
  rawBody: string;
  workflowId: string;
}

export interface RecordReceivedResult {
  duplicate: boolean;
  /** The workflow still needs a start (never started, or the start is not yet confirmed). */
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
    const existing = await this.models.StripeEvent.findOneAndUpdate(
      { tenantId, eventId: summary.eventId },
      { $inc: { deliveries: 1 } },
      { returnDocument: 'after' },
    ).lean();
    return { duplicate: true, needsStart: existing !== null && existing.workflowStartedAt === null };
  }

  async markStarted(tenantId: string, eventId: string): Promise<void> {
    await this.models.StripeEvent.updateOne(
      { tenantId, eventId, workflowStartedAt: null },
      { $set: { workflowStartedAt: new Date() } },
    );
  }

  async find(tenantId: string, eventId: string): Promise<StripeEventDoc | null> {
    return this.models.StripeEvent.findOne({ tenantId, eventId }).lean();
  }

  async markStatus(
    tenantId: string,
    eventId: string,
    status: EventStatus,
    fields: { outcome?: string | null; error?: string | null } = {},
  ): Promise<void> {
    const terminal = status === 'processed' || status === 'failed';
    await this.models.StripeEvent.updateOne(
      { tenantId, eventId },
      { $set: { status, ...fields, ...(terminal ? { processedAt: new Date() } : {}) } },
    );
  }

  /** Events stored but never confirmed started, older than `olderThan` (the reconciler's work list). */
  async findUnstarted(
    olderThan: Date,
    limit: number,
  ): Promise<Array<Pick<StripeEventDoc, 'tenantId' | 'eventId' | 'rawBody'>>> {
    return this.models.StripeEvent.find({ workflowStartedAt: null, receivedAt: { $lt: olderThan } })
      .sort({ receivedAt: 1 })
      .limit(limit)
      .select({ tenantId: 1, eventId: 1, rawBody: 1 })
      .lean();
  }
}
