import type { PaymentSessionStore, SessionPayment, SessionStatus } from '../src/stores/payment-session-store';
import type { BusinessHandlers } from './business-handlers';
import type { BusinessResult } from './business-types';
import {
  activityLog,
  idField,
  metadataValue,
  numberField,
  objectField,
  stringField,
  type StoredEvent,
} from './stored-event';
import type { EventRef } from './types';

export interface PaymentSessionDeps {
  paymentSessions: PaymentSessionStore;
  /** `HOOKFLOW_SESSION_METADATA_KEY`; the built-in keys below are accepted as well. */
  sessionMetadataKey: string;
}

/** Keys always accepted besides the configured one (`clausum_session_id`: Clausum-style integrations). */
export const BUILT_IN_SESSION_METADATA_KEYS = ['hookflow_session_id', 'clausum_session_id'] as const;

type SessionOutcome = 'session_linked' | 'session_failed' | 'no_session' | 'stale';

/**
 * Payment sessions: a merchant puts its session id into the Stripe metadata of the payment, and the
 * charge or failed payment intent is linked back to it. The outbound `transaction.*` message is
 * emitted for every such event, with `sessionId: null` when none is linked: the design table maps
 * the event to the message unconditionally, and the merchant may track payments without sessions.
 */
export function createPaymentSessionHandlers(
  deps: PaymentSessionDeps,
): Pick<BusinessHandlers, 'linkPaymentSession' | 'failPaymentSession'> {
  const keys = [...new Set([deps.sessionMetadataKey, ...BUILT_IN_SESSION_METADATA_KEYS])];

  /**
   * Records the session (when the metadata names one) and returns the transaction message, which is
   * sent whether or not a session is known: it depends on the event only, so re-runs repeat it.
   */
  async function settle(
    ref: EventRef,
    event: StoredEvent,
    sessionId: string | null,
    status: SessionStatus,
    fields: Omit<SessionPayment, 'sessionId' | 'stripeStatus'>,
    objectId: string,
  ): Promise<BusinessResult> {
    let outcome: SessionOutcome = 'no_session';
    if (sessionId) {
      const payment = { sessionId, ...fields, stripeStatus: stringField(event.object, 'status') };
      const write =
        status === 'succeeded'
          ? await deps.paymentSessions.linkSession(ref.tenantId, event, payment)
          : await deps.paymentSessions.markSessionFailed(ref.tenantId, event, payment);
      outcome = write === 'stale' ? 'stale' : status === 'succeeded' ? 'session_linked' : 'session_failed';
    }
    activityLog('payment session outcome', { eventId: event.id, sessionId, status, outcome });
    return {
      outcome,
      outbound: [
        {
          type: status === 'succeeded' ? 'transaction.succeeded' : 'transaction.failed',
          objectId,
          data: { sessionId, ...fields, status, occurredAt: isoSeconds(event.created) },
        },
      ],
    };
  }

  return {
    async linkPaymentSession(ref: EventRef, event: StoredEvent): Promise<BusinessResult> {
      // https://docs.stripe.com/api/charges/object
      const charge = event.object;
      const chargeId = stringField(charge, 'id') ?? '';
      const sessionId = metadataValue(charge, keys);
      const fields = {
        chargeId,
        paymentIntentId: idField(charge, 'payment_intent'),
        customerId: idField(charge, 'customer'),
        amount: numberField(charge, 'amount'),
        currency: stringField(charge, 'currency'),
        failureCode: null,
        declineCode: null,
      };
      return settle(ref, event, sessionId, 'succeeded', fields, chargeId);
    },

    async failPaymentSession(ref: EventRef, event: StoredEvent): Promise<BusinessResult> {
      // https://docs.stripe.com/api/payment_intents/object#payment_intent_object-last_payment_error
      const intent = event.object;
      const intentId = stringField(intent, 'id') ?? '';
      const sessionId = metadataValue(intent, keys);
      const lastError = objectField(intent, 'last_payment_error');
      const fields = {
        chargeId: idField(intent, 'latest_charge') ?? idField(lastError, 'charge'),
        paymentIntentId: intentId,
        customerId: idField(intent, 'customer'),
        amount: numberField(intent, 'amount'),
        currency: stringField(intent, 'currency'),
        // Codes only: `last_payment_error.message` is prose and `payment_method` carries billing details.
        failureCode: stringField(lastError, 'code'),
        declineCode: stringField(lastError, 'decline_code'),
      };
      return settle(ref, event, sessionId, 'failed', fields, intentId);
    },
  };
}

function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
