import type { Connection } from 'mongoose';
import { bindBusinessModels, businessKey, type PaymentSessionDoc, type SessionStatus } from './business-schemas';
import { bindLockModel } from './locks';
import { writeTrackedRecord, type RecordEvent } from './tracked-record';
import type { WriteOutcome } from './watermark';

export type { PaymentSessionDoc, RecordEvent, SessionStatus, WriteOutcome };

/** What a charge or a failed payment intent says about the payment of a session. */
export interface SessionPayment {
  /** The merchant's session id, from the payment's metadata. */
  sessionId: string;
  chargeId: string | null;
  paymentIntentId: string | null;
  customerId: string | null;
  amount: number | null;
  currency: string | null;
  /** `last_payment_error.code` / `.decline_code` of a failed attempt; null on success. */
  failureCode: string | null;
  declineCode: string | null;
  /** The Stripe object's own status, kept in the session's history. */
  stripeStatus: string | null;
}

/**
 * Payment sessions. The store owns the session's `_id` (`businessKey(tenant, session id)`), its lock,
 * the "never older" watermark write and the history (one entry per event). Each method returns
 * `stale` when a newer event already wrote the session (its history still records this one).
 */
export interface PaymentSessionStore {
  /** `charge.succeeded`: the session was paid by this charge. */
  linkSession(tenantId: string, event: RecordEvent, payment: SessionPayment): Promise<WriteOutcome>;
  /** `payment_intent.payment_failed`: the session's payment attempt failed. */
  markSessionFailed(tenantId: string, event: RecordEvent, payment: SessionPayment): Promise<WriteOutcome>;
  /**
   * A session by its id. With the tenant, an `_id` lookup; without, a support query on `sessionId`
   * (indexed on MongoDB, a scan on FerretDB: the admin API, never the event path).
   */
  getSession(sessionId: string, tenantId?: string): Promise<PaymentSessionDoc | null>;
}

export function createPaymentSessionStore(connection: Connection): PaymentSessionStore {
  const { PaymentSession } = bindBusinessModels(connection);
  const locks = bindLockModel(connection);

  function writeSession(tenantId: string, event: RecordEvent, status: SessionStatus, payment: SessionPayment) {
    const { stripeStatus, ...fields } = payment;
    return writeTrackedRecord(PaymentSession, locks, {
      kind: 'payment-session',
      tenantId,
      id: payment.sessionId,
      event,
      fields: { ...fields, status },
      stripeStatus,
    });
  }

  return {
    linkSession: (tenantId, event, payment) => writeSession(tenantId, event, 'succeeded', payment),
    markSessionFailed: (tenantId, event, payment) => writeSession(tenantId, event, 'failed', payment),
    async getSession(sessionId, tenantId) {
      const filter = tenantId ? { _id: businessKey(tenantId, sessionId) } : { sessionId };
      return PaymentSession.findOne(filter).lean<PaymentSessionDoc>();
    },
  };
}
