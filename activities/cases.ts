import type { CaseStatus, CaseStore } from '../src/stores/case-store';
import type { BusinessHandlers } from './business-handlers';
import type { BusinessResult, OutboundMessage } from './business-types';
import {
  activityLog,
  dateFromSeconds,
  idField,
  numberField,
  objectField,
  stringField,
  type StoredEvent,
} from './stored-event';
import type { EventRef } from './types';

export interface CaseDeps {
  cases: CaseStore;
}

/**
 * Dispute status → case status. `won`/`lost` are final; `warning_closed` (an inquiry that never
 * became a chargeback) and `prevented` end the case without a ruling
 * (https://docs.stripe.com/api/disputes/object#dispute_object-status).
 */
function caseStatusOf(eventType: string, disputeStatus: string | null): CaseStatus {
  if (disputeStatus === 'won' || disputeStatus === 'lost') return disputeStatus;
  if (eventType === 'charge.dispute.closed' || disputeStatus === 'warning_closed' || disputeStatus === 'prevented') {
    return 'closed';
  }
  return 'open';
}

type CaseOutcome = 'case_opened' | 'case_updated' | 'case_resolved' | 'stale' | 'not_a_case';

/**
 * Dispute and fraud cases. The case row follows the newest Stripe event (watermark), its history
 * gets one entry per event whatever the arrival order. Outbound messages depend on the event only,
 * never on whether this run inserted the row, so a retry after a crash still emits them.
 */
export function createCaseHandlers(deps: CaseDeps): Pick<BusinessHandlers, 'applyDisputeCase' | 'openFraudCase'> {
  return {
    async applyDisputeCase(ref: EventRef, event: StoredEvent): Promise<BusinessResult> {
      const dispute = event.object;
      const disputeId = stringField(dispute, 'id');
      if (!disputeId) return { outcome: 'not_a_case', outbound: [] };
      const stripeStatus = stringField(dispute, 'status');
      const status = caseStatusOf(event.type, stripeStatus);
      const resolved = status !== 'open';
      const fields = {
        disputeId,
        status,
        stripeStatus,
        chargeId: idField(dispute, 'charge'),
        paymentIntentId: idField(dispute, 'payment_intent'),
        amount: numberField(dispute, 'amount'),
        currency: stringField(dispute, 'currency'),
        reason: stringField(dispute, 'reason'),
        evidenceDueBy: dateFromSeconds(numberField(objectField(dispute, 'evidence_details'), 'due_by')),
        openedAt: new Date((numberField(dispute, 'created') ?? event.created) * 1000),
        resolvedAt: resolved ? dateFromSeconds(event.created) : null,
      };
      const { caseId, write } = await deps.cases.recordDisputeEvent(ref.tenantId, event, fields);

      const data = {
        caseId,
        disputeId,
        chargeId: fields.chargeId,
        paymentIntentId: fields.paymentIntentId,
        amount: fields.amount,
        currency: fields.currency,
        reason: fields.reason,
        status,
        stripeStatus,
        evidenceDueBy: fields.evidenceDueBy?.toISOString() ?? null,
        occurredAt: new Date(event.created * 1000).toISOString(),
      };
      const outbound: OutboundMessage[] = [];
      let outcome: CaseOutcome;
      if (event.type === 'charge.dispute.created') {
        outbound.push({ type: 'dispute.created', objectId: disputeId, data });
        outbound.push({ type: 'case.created', objectId: caseId, data: { ...data, kind: 'dispute' } });
        outcome = 'case_opened';
      } else if (event.type === 'charge.dispute.closed') {
        outbound.push({ type: 'dispute.resolved', objectId: disputeId, data: { ...data, outcome: status } });
        outcome = 'case_resolved';
      } else {
        outbound.push({ type: 'dispute.updated', objectId: disputeId, data });
        outcome = 'case_updated';
      }
      activityLog('dispute case written', { eventId: event.id, caseId, status, write });
      return { outcome: write === 'stale' ? 'stale' : outcome, outbound };
    },

    async openFraudCase(ref: EventRef, event: StoredEvent): Promise<BusinessResult> {
      // https://docs.stripe.com/api/radar/early_fraud_warnings/object
      const warning = event.object;
      const warningId = stringField(warning, 'id');
      if (!warningId) return { outcome: 'not_a_case', outbound: [] };
      const fields = {
        warningId,
        actionable: warning.actionable !== false,
        chargeId: idField(warning, 'charge'),
        paymentIntentId: idField(warning, 'payment_intent'),
        fraudType: stringField(warning, 'fraud_type'),
        openedAt: new Date((numberField(warning, 'created') ?? event.created) * 1000),
      };
      const { caseId, write } = await deps.cases.openFraudCase(ref.tenantId, event, fields);
      activityLog('fraud case written', { eventId: event.id, caseId, write });
      const data = {
        caseId,
        kind: 'fraud',
        earlyFraudWarningId: warningId,
        chargeId: fields.chargeId,
        paymentIntentId: fields.paymentIntentId,
        fraudType: fields.fraudType,
        actionable: fields.actionable,
        status: 'open',
        occurredAt: new Date(event.created * 1000).toISOString(),
      };
      return {
        outcome: write === 'stale' ? 'stale' : 'case_opened',
        outbound: [{ type: 'case.created', objectId: caseId, data }],
      };
    },
  };
}
