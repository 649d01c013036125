import { isDuplicateKeyError } from '../db/models';
import type { MessageDoc, MessageStatus, OutboundModels } from './endpoint-model';
import { outboundBody, outboundMessageId } from './outbound-message';

export interface NewMessage {
  tenantId: string;
  endpointId: string;
  stripeEventId: string;
  stripeEventCreated: number;
  objectId: string | null;
  type: string;
  payload: unknown;
}

export interface AttemptRecord {
  messageId: string;
  endpointId: string;
  attempt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string;
  at: Date;
}

/**
 * Messages and attempts. Activities run at least once, so inserts are keyed by a unique index and a
 * duplicate means "already there". (Insert, not `$setOnInsert` upsert: FerretDB 1.x drops null
 * fields from upserted documents.)
 */
export function createMessageStore(models: OutboundModels) {
  const { OutboundMessage, OutboundAttempt } = models;

  return {
    /** Creates the message once; a re-run of the same Stripe event finds it again under the same id. */
    async upsert(input: NewMessage): Promise<MessageDoc> {
      const messageId = outboundMessageId(input.stripeEventId, input.type, input.endpointId);
      const now = new Date();
      await insertOnce(() =>
        OutboundMessage.create({
          messageId,
          tenantId: input.tenantId,
          endpointId: input.endpointId,
          stripeEventId: input.stripeEventId,
          stripeEventCreated: input.stripeEventCreated,
          objectId: input.objectId,
          type: input.type,
          body: outboundBody(input.type, input.stripeEventCreated, input.payload),
          status: 'pending',
          attempts: 0,
          createdAt: now,
          updatedAt: now,
        }),
      );
      return (await OutboundMessage.findOne({ messageId }).lean())!;
    },

    async find(messageId: string): Promise<MessageDoc | null> {
      return OutboundMessage.findOne({ messageId }).lean();
    },

    async setStatus(messageId: string, status: MessageStatus, lastError: string | null = null): Promise<void> {
      const now = new Date();
      await OutboundMessage.updateOne(
        { messageId },
        { $set: { status, updatedAt: now, ...(status === 'delivered' ? { deliveredAt: now } : { lastError }) } },
      );
    },

    /** Stores one attempt (keyed by message and attempt number) and its summary on the message. */
    async recordAttempt(record: AttemptRecord): Promise<void> {
      await insertOnce(() => OutboundAttempt.create(record));
      await OutboundMessage.updateOne(
        { messageId: record.messageId },
        {
          $max: { attempts: record.attempt },
          $set: { lastStatusCode: record.statusCode, lastError: record.error, updatedAt: record.at },
        },
      );
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;

async function insertOnce(insert: () => Promise<unknown>): Promise<void> {
  try {
    await insert();
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
  }
}
