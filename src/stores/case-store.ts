import type { Connection } from 'mongoose';
import {
  bindBusinessModels,
  businessKey,
  CASE_KINDS,
  CASE_STATUSES,
  type CaseDoc,
  type CaseKind,
  type CaseStatus,
} from './business-schemas';
import { bindLockModel } from './locks';
import { writeTrackedRecord, type RecordEvent } from './tracked-record';
import type { WriteOutcome } from './watermark';

export { CASE_KINDS, CASE_STATUSES, type CaseDoc, type CaseKind, type CaseStatus };
export type { RecordEvent, WriteOutcome };

/** Deterministic from the Stripe object (`dp_…` → `case_dp_…`), so every run finds the same case. */
export function caseIdFor(stripeObjectId: string): string {
  return `case_${stripeObjectId}`;
}

/** A dispute as the case keeps it (https://docs.stripe.com/api/disputes/object). */
export interface DisputeCase {
  disputeId: string;
  /** The case status the dispute's status maps to. */
  status: CaseStatus;
  /** The dispute's own status (`needs_response`, `won`, …). */
  stripeStatus: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  amount: number | null;
  currency: string | null;
  reason: string | null;
  evidenceDueBy: Date | null;
  /** The dispute's `created`. */
  openedAt: Date;
  resolvedAt: Date | null;
}

/** An early fraud warning as its case keeps it (https://docs.stripe.com/api/radar/early_fraud_warnings/object). */
export interface FraudWarningCase {
  warningId: string;
  actionable: boolean;
  chargeId: string | null;
  paymentIntentId: string | null;
  fraudType: string | null;
  /** The warning's `created`. */
  openedAt: Date;
}

export interface CaseWrite {
  caseId: string;
  /** `stale`: a newer event already wrote the case; its history still records this event. */
  write: WriteOutcome;
}

export interface CaseListQuery {
  tenantId?: string;
  status?: CaseStatus;
  kind?: CaseKind;
  chargeId?: string;
  /** Stripe Connect: cases of one connected account. */
  account?: string;
  limit: number;
}

/**
 * Dispute and fraud cases. The store owns the case's `_id` (`businessKey(tenant, case id)`), its
 * lock, the "never older" watermark write and the history (one entry per event, whatever the arrival
 * order). Business code hands it what a Stripe event says.
 */
export interface CaseStore {
  /** `charge.dispute.*`: opens, updates or resolves the dispute's case. */
  recordDisputeEvent(tenantId: string, event: RecordEvent, dispute: DisputeCase): Promise<CaseWrite>;
  /** `radar.early_fraud_warning.created`: opens the warning's fraud case (once, however often it runs). */
  openFraudCase(tenantId: string, event: RecordEvent, warning: FraudWarningCase): Promise<CaseWrite>;
  /**
   * A case by its id. With the tenant, an `_id` lookup; without, a support query on `caseId`
   * (indexed on MongoDB, a scan on FerretDB: the admin API, never the event path).
   */
  getCase(caseId: string, tenantId?: string): Promise<CaseDoc | null>;
  /**
   * Newest-opened first. A support query (admin API), never on the event path: served by the
   * (tenantId, status, openedAt), (tenantId, chargeId) and (tenantId, account, openedAt) indexes on
   * MongoDB, a scan on FerretDB.
   */
  listCases(query: CaseListQuery): Promise<CaseDoc[]>;
}

export function createCaseStore(connection: Connection): CaseStore {
  const { Case } = bindBusinessModels(connection);
  const locks = bindLockModel(connection);

  async function writeCase(
    tenantId: string,
    event: RecordEvent,
    stripeObjectId: string,
    fields: CaseFields,
  ): Promise<CaseWrite> {
    const caseId = caseIdFor(stripeObjectId);
    const write = await writeTrackedRecord(Case, locks, {
      kind: 'case',
      tenantId,
      id: caseId,
      event,
      fields: { caseId, stripeObjectId, ...fields },
      stripeStatus: fields.stripeStatus,
    });
    return { caseId, write };
  }

  return {
    recordDisputeEvent(tenantId, event, dispute) {
      return writeCase(tenantId, event, dispute.disputeId, {
        kind: 'dispute',
        status: dispute.status,
        stripeStatus: dispute.stripeStatus,
        chargeId: dispute.chargeId,
        paymentIntentId: dispute.paymentIntentId,
        amount: dispute.amount,
        currency: dispute.currency,
        reason: dispute.reason,
        evidenceDueBy: dispute.evidenceDueBy,
        openedAt: dispute.openedAt,
        resolvedAt: dispute.resolvedAt,
      });
    },

    openFraudCase(tenantId, event, warning) {
      return writeCase(tenantId, event, warning.warningId, {
        kind: 'fraud',
        status: 'open',
        stripeStatus: warning.actionable ? 'actionable' : 'not_actionable',
        chargeId: warning.chargeId,
        paymentIntentId: warning.paymentIntentId,
        amount: null,
        currency: null,
        reason: warning.fraudType,
        evidenceDueBy: null,
        openedAt: warning.openedAt,
        resolvedAt: null,
      });
    },

    async getCase(caseId, tenantId) {
      const filter = tenantId ? { _id: businessKey(tenantId, caseId) } : { caseId };
      return Case.findOne(filter).lean<CaseDoc>();
    },

    async listCases(query) {
      const filter: Record<string, string> = {};
      if (query.tenantId) filter.tenantId = query.tenantId;
      if (query.status) filter.status = query.status;
      if (query.kind) filter.kind = query.kind;
      if (query.chargeId) filter.chargeId = query.chargeId;
      if (query.account) filter.account = query.account;
      return Case.find(filter).sort({ openedAt: -1 }).limit(query.limit).lean<CaseDoc[]>();
    },
  };
}

/** What a case row holds besides its ids and what the tracked-record write sets itself. */
interface CaseFields {
  kind: CaseKind;
  status: CaseStatus;
  stripeStatus: string | null;
  chargeId: string | null;
  paymentIntentId: string | null;
  amount: number | null;
  currency: string | null;
  reason: string | null;
  evidenceDueBy: Date | null;
  openedAt: Date;
  resolvedAt: Date | null;
}
