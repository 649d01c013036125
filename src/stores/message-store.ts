import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { outboundBody } from '../outbound/outbound-message';
import { isDuplicateKeyError } from './duplicate-key';
import { bindLockModel, withLock } from './locks';
import { bindOutboundModels, type AttemptDoc, type MessageDoc, type MessageStatus } from './outbound-schemas';

export type { AttemptDoc, MessageDoc, MessageStatus } from './outbound-schemas';
export { MESSAGE_STATUSES } from './outbound-schemas';

/** Statuses kept in the failure index (`outbound_failures`): the messages support may resend. */
export const UNDELIVERED_STATUSES = ['failed', 'skipped'] as const satisfies readonly MessageStatus[];
const isUndelivered = (status: string | undefined) =>
  (UNDELIVERED_STATUSES as readonly string[]).includes(status ?? '');

export interface MessageListQuery {
  status?: MessageStatus;
  endpointId?: string;
  tenantId?: string;
  limit: number;
  /** From the previous page's `nextCursor`. */
  cursor?: string;
}

export interface MessagePage {
  messages: MessageDoc[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** A malformed `cursor` (not one this store handed out). */
export class InvalidCursor extends Error {
  override readonly name = 'InvalidCursor';
}

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
  const { OutboundMessage, OutboundAttempt, OutboundFailure } = bindOutboundModels(connection);
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
     * The messages of one Stripe event: every (outbound type, endpoint) pair's derived id, looked up
     * by primary key — a handful of `_id` reads instead of a scan of every message ever sent.
     */
    async ofEvent(stripeEventId: string, endpointIds: string[], types: readonly string[]): Promise<MessageDoc[]> {
      const ids = endpointIds.flatMap((endpointId) =>
        types.map((type) => outboundMessageId(stripeEventId, type, endpointId)),
      );
      return present(await Promise.all(ids.map((id) => OutboundMessage.findOne({ _id: id }).lean())));
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
        const current = await OutboundMessage.findOne(
          { _id: messageId },
          { status: 1, tenantId: 1, endpointId: 1 },
        ).lean();
        if (status !== 'delivered' && current?.status === 'delivered') return;
        const now = new Date();
        await OutboundMessage.updateOne(
          { _id: messageId },
          { $set: { status, updatedAt: now, ...(status === 'delivered' ? { deliveredAt: now } : { lastError }) } },
        );
        // The failure index follows the status; the happy path (pending → delivering → delivered)
        // writes nothing to it.
        if (current && isUndelivered(status)) {
          await OutboundFailure.updateOne(
            { _id: messageId },
            {
              $set: {
                messageId,
                tenantId: current.tenantId,
                endpointId: current.endpointId,
                status,
                failedAt: now,
              },
            },
            { upsert: true },
          );
        } else if (isUndelivered(current?.status)) {
          await OutboundFailure.deleteOne({ _id: messageId });
        }
      });
    },

    /**
     * A page of messages, newest first. Failed and skipped messages come from the failure index
     * (newest failure first); other statuses scan the messages (fine for support's occasional look,
     * not for a hot path).
     */
    async list(query: MessageListQuery): Promise<MessagePage> {
      const after = query.cursor ? decodeCursor(query.cursor) : null;
      const scope = {
        ...(query.endpointId ? { endpointId: query.endpointId } : {}),
        ...(query.tenantId ? { tenantId: query.tenantId } : {}),
      };
      if (query.status && isUndelivered(query.status)) {
        const status = query.status as (typeof UNDELIVERED_STATUSES)[number];
        const entries = await OutboundFailure.find({ ...scope, status, ...before('failedAt', after) })
          .sort({ failedAt: -1, _id: -1 })
          .limit(query.limit + 1)
          .lean();
        const page = entries.slice(0, query.limit);
        const found = await Promise.all(page.map((entry) => OutboundMessage.findOne({ _id: entry._id }).lean()));
        const last = page.at(-1);
        return {
          messages: present(found),
          nextCursor: entries.length > query.limit && last ? encodeCursor(last.failedAt, last._id) : null,
        };
      }
      const docs = await OutboundMessage.find({
        ...scope,
        ...(query.status ? { status: query.status } : {}),
        ...before('createdAt', after),
      })
        .sort({ createdAt: -1, _id: -1 })
        .limit(query.limit + 1)
        .lean();
      const page = docs.slice(0, query.limit);
      const last = page.at(-1);
      return {
        messages: page,
        nextCursor: docs.length > query.limit && last ? encodeCursor(last.createdAt, last._id) : null,
      };
    },

    /** Failed (or skipped) messages of an endpoint since a time, oldest first, at most `limit`. */
    async undeliveredSince(endpointId: string, since: Date, limit: number): Promise<MessageDoc[]> {
      const entries = await OutboundFailure.find({ endpointId, failedAt: { $gte: since } })
        .sort({ failedAt: 1, _id: 1 })
        .limit(limit)
        .lean();
      const found = await Promise.all(entries.map((entry) => OutboundMessage.findOne({ _id: entry._id }).lean()));
      return present(found).filter((message) => isUndelivered(message.status));
    },

    /** Every attempt of a message, in order; by `_id` (the message knows how many there were). */
    async attemptsOf(message: Pick<MessageDoc, 'messageId' | 'attempts'>): Promise<AttemptDoc[]> {
      const keys = Array.from({ length: message.attempts }, (_, index) => attemptKey(message.messageId, index + 1));
      const found = await Promise.all(keys.map((key) => OutboundAttempt.findOne({ _id: key }).lean()));
      return present(found);
    },

    /** Audit of a manual resend (`trigger` = `resend` or `recover`), kept on the message. */
    async recordResend(messageId: string, entry: { by: string; trigger: 'resend' | 'recover'; at: Date }) {
      await locked(messageId, () => OutboundMessage.updateOne({ _id: messageId }, { $push: { resends: entry } }));
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

/** Opaque page cursor: the sort key (time, `_id`) of the last row handed out. */
function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'number' && Number.isFinite(at) && typeof id === 'string') return { at: new Date(at), id };
  } catch {
    // Falls through to the error below.
  }
  throw new InvalidCursor('cursor is not one this list handed out; start again without it');
}

/** Rows after the cursor in (time desc, `_id` desc) order. */
function before(field: 'failedAt' | 'createdAt', after: { at: Date; id: string } | null) {
  if (!after) return {};
  return { $or: [{ [field]: { $lt: after.at } }, { [field]: after.at, _id: { $lt: after.id } }] };
}

function present<T>(values: Array<T | null>): T[] {
  return values.filter((value): value is NonNullable<T | null> & T => value !== null);
}
