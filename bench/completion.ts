import { Client, Connection as TemporalConnection } from '@temporalio/client';
import mongoose, { type Connection } from 'mongoose';
import { TENANT } from './events';
import { progress, sleep } from './procs';

/**
 * Watches a phase until every acknowledged event has its outcome recorded in the store (status
 * `processed` or `failed`). The cheap signal, read every second, is Temporal's count of closed
 * `processStripeEvent` executions (a workflow closes only after it recorded the event's outcome);
 * once it says all are done, the store confirms. The confirmation counts only the phase's own
 * events — those received since the phase began, read through the support list's
 * `{tenantId, status, listKey}` index (the list key starts with the receive time), which the
 * patched FerretDB pushes down to SQLite. A count by status over the whole collection
 * (`countDocuments`) is a full scan with every document decoded on FerretDB: at 90,000 stored events
 * each one took tens of CPU-seconds and made the benchmark itself the growth it was measuring
 * (growth 1.199 in bench/results/20261127T062241Z.md; bench/growth-probe.ts found it).
 */
export interface StoreCounts {
  processed: number;
  failed: number;
}

/** Where a phase began: outcomes and closed workflows are counted from here. */
export interface PhaseStart {
  /** Events received at or after this instant are the phase's. */
  since: Date;
  /** Closed processStripeEvent executions before the phase. */
  closedWorkflows: number;
}

export interface CompletionResult {
  /** Seconds from `startedAt` until the phase's events were all processed or failed. */
  seconds: number;
  processed: number;
  failed: number;
  timed_out: boolean;
  /** Workflows of the phase still open at the end. */
  open_workflows_at_end: number;
  /** Seconds from the first send until 50 / 90 / 99 % of the phase's workflows had closed (1 s polls). */
  closed_50pct_s: number | null;
  closed_90pct_s: number | null;
  closed_99pct_s: number | null;
}

/** The support list's filter shape (EventStore.listEvents): tenant, status, a list-key range. */
const outcomeFilter = (status: string, since: Date) => ({
  tenantId: TENANT,
  status,
  listKey: { $gte: since.toISOString() },
});

const CLOSED_EVENT_WORKFLOWS = `WorkflowType = 'processStripeEvent' AND ExecutionStatus != 'Running'`;

export class StoreWatch {
  private constructor(
    private readonly connection: Connection,
    private readonly temporal: TemporalConnection,
    private readonly client: Client,
  ) {}

  static async open(mongoUrl: string, temporalAddress: string): Promise<StoreWatch> {
    const connection = mongoose.createConnection(mongoUrl, { serverSelectionTimeoutMS: 10_000, retryWrites: false });
    await connection.asPromise();
    const temporal = await TemporalConnection.connect({ address: temporalAddress });
    return new StoreWatch(connection, temporal, new Client({ connection: temporal }));
  }

  async close(): Promise<void> {
    await this.connection.close();
    await this.temporal.close();
  }

  async closedWorkflows(): Promise<number> {
    return (await this.client.workflow.count(CLOSED_EVENT_WORKFLOWS)).count;
  }

  private pushdownChecked = false;

  /** Call before the phase's first send. */
  async begin(): Promise<PhaseStart> {
    if (!this.pushdownChecked) {
      this.pushdownChecked = true;
      await this.warnUnlessPushedDown();
    }
    return { since: new Date(), closedWorkflows: await this.closedWorkflows() };
  }

  /** The confirmation is cheap only if FerretDB reads it from the index; say so when it does not. */
  private async warnUnlessPushedDown(): Promise<void> {
    const explained = (await this.connection.db!.command({
      explain: { find: 'stripe_events', filter: outcomeFilter('processed', new Date()), sort: { listKey: -1 } },
      verbosity: 'queryPlanner',
    })) as { filterPushdown?: boolean; sortPushdown?: boolean };
    // MongoDB answers without these fields (it uses the index by itself); FerretDB says false when it scans.
    if (explained.filterPushdown === false || explained.sortPushdown === false) {
      progress('warning: the outcome count is not pushed down to the index: every confirmation scans stripe_events');
    }
  }

  /** Outcomes of the events received since `since` (one index range per status, nothing else read). */
  async outcomesSince(since: Date): Promise<StoreCounts> {
    const events = this.connection.db!.collection('stripe_events');
    const count = async (status: string) =>
      (await events.find(outcomeFilter(status, since)).project({ _id: 1 }).sort({ listKey: -1 }).toArray()).length;
    const [processed, failed] = await Promise.all([count('processed'), count('failed')]);
    return { processed, failed };
  }

  /**
   * Waits until `expected` events received since `start` are processed or failed. `startedAt` is
   * the phase's first send; the result's seconds run from there.
   */
  async waitForOutcomes(options: {
    label: string;
    expected: number;
    start: PhaseStart;
    startedAt: number;
    timeoutMs: number;
  }): Promise<CompletionResult> {
    const { label, expected, start, startedAt, timeoutMs } = options;
    const deadline = Date.now() + timeoutMs;
    let lastReport = 0;
    let lastConfirm = Date.now();
    let closed = 0;
    const outcomes = (current: StoreCounts) => current.processed + current.failed;
    const reached: Record<number, number | null> = { 50: null, 90: null, 99: null };
    const result = (current: StoreCounts, at: number, timedOut: boolean): CompletionResult => ({
      seconds: (at - startedAt) / 1000,
      processed: current.processed,
      failed: current.failed,
      timed_out: timedOut,
      open_workflows_at_end: Math.max(0, expected - closed),
      closed_50pct_s: reached[50]!,
      closed_90pct_s: reached[90]!,
      closed_99pct_s: reached[99]!,
    });
    while (Date.now() < deadline) {
      closed = (await this.closedWorkflows()) - start.closedWorkflows;
      const now = Date.now();
      for (const pct of [50, 90, 99]) {
        if (reached[pct] === null && closed >= (expected * pct) / 100)
          reached[pct] = Math.round((now - startedAt) / 100) / 10;
      }
      if (now - lastReport >= 10_000) {
        lastReport = now;
        progress(`${label}: ${closed}/${expected} event workflows closed (${((now - startedAt) / 1000).toFixed(0)} s)`);
      }
      // Confirm in the store when Temporal says all are done (and every 3 min in case it never does).
      if ((closed >= expected && now - lastConfirm >= 2_000) || now - lastConfirm >= 180_000) {
        lastConfirm = now;
        const current = await this.outcomesSince(start.since);
        if (outcomes(current) >= expected) return result(current, now, false);
      }
      await sleep(1_000);
    }
    const current = await this.outcomesSince(start.since);
    return result(current, Date.now(), outcomes(current) < expected);
  }
}
