import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { outboundBody } from '../outbound/outbound-message';
import { isDuplicateKeyError } from './duplicate-key';
import { bindLockModel, withLock } from './locks';
import { bindOutboundModels, type MessageDoc, type MessageStatus } from './outbound-schemas';

export type { MessageDoc, MessageStatus } from './outbound-schemas';

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
 * The Standard Webhooks `webhook-id` of a message, and its `_id`: derived, not random, from (Stripe
 * event, outbound type, endpoint), so Temporal retries, workflow re-runs and replays of the same
 * Stripe event all send the same id and the merchant can deduplicate on it.
 */
function outboundMessageId(stripeEventId: string, type: string, endpointId: string): string {
  const digest = createHash('sha256').update(`${stripeEventId}\n${type}\n${endpointId}`).digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}

/** `_id` of an attempt document: one per (message, 1-based attempt number). */
const attemptKey = (messageId: string, attempt: number) => `${messageId}:${attempt}`;

/**
 * Messages and attempts, addressed by their deterministic `_id` (the message id, attemptKey).
 * Activities run at least once, so inserts are keyed by `_id` and a duplicate means "already
 * there". (Insert, not `$setOnInsert` upsert: FerretDB 1.x drops null fields from upserted
 * documents.) Updates of a message run under its lock: its deliverWebhook workflow writes it one
 * step after another, but a step that timed out (or a Temporal retry's first try) can still be
 * writing while the next one does, and FerretDB would let the two whole-document rewrites undo each
 * other.
 */
export function createMessageStore(connection: Connection) {
  const { OutboundMessage, OutboundAttempt } = bindOutboundModels(connection);
  const locks = bindLockModel(connection);
  const locked = (messageId: string, work: () => Promise<unknown>) => withLock(locks, `message:${messageId}`, work);

  return {
    /** Creates the message once; a re-run of the same Stripe event finds it again under the same id. */
    async upsert(input: NewMessage): Promise<MessageDoc> {
      const messageId = outboundMessageId(input.stripeEventId, input.type, input.endpointId);
      const now = new Date();
      const created = await insertOnce(() =>
        OutboundMessage.create({
          _id: messageId,
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
      // Just inserted: the document is what was written; otherwise it was there already.
      return created ? (created.toObject() as MessageDoc) : (await OutboundMessage.findOne({ _id: messageId }).lean())!;
    },

    async find(messageId: string): Promise<MessageDoc | null> {
      return OutboundMessage.findOne({ _id: messageId }).lean();
    },

    /**
     * `delivered` is final: a late write from a step that timed out (say a `delivering` from a
     * begin that hung) must not make a delivered message look undelivered, or a re-run would send
     * it again.
     */
    async setStatus(messageId: string, status: MessageStatus, lastError: string | null = null): Promise<void> {
      await locked(messageId, async () => {
        // Read, then update by `_id` alone: under the lock that is as good as a conditional update,
        // and on FerretDB a filter with a second condition costs more than this primary-key read.
        if (status !== 'delivered') {
          const current = await OutboundMessage.findOne({ _id: messageId }, { status: 1 }).lean();
          if (current?.status === 'delivered') return;
        }
        const now = new Date();
        await OutboundMessage.updateOne(
          { _id: messageId },
          { $set: { status, updatedAt: now, ...(status === 'delivered' ? { deliveredAt: now } : { lastError }) } },
        );
      });
    },

    /** Stores one attempt (keyed by message and attempt number) and its summary on the message. */
    async recordAttempt(record: AttemptRecord): Promise<void> {
      await insertOnce(() => OutboundAttempt.create({ _id: attemptKey(record.messageId, record.attempt), ...record }));
      await locked(record.messageId, () =>
        OutboundMessage.updateOne(
          { _id: record.messageId },
          {
            $max: { attempts: record.attempt },
            $set: { lastStatusCode: record.statusCode, lastError: record.error, updatedAt: record.at },
          },
        ),
      );
    },
  };
}

export type MessageStore = ReturnType<typeof createMessageStore>;

/** The inserted value, or undefined when the key was there already. */
async function insertOnce<T>(insert: () => Promise<T>): Promise<T | undefined> {
  try {
    return await insert();
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return undefined;
  }
}
