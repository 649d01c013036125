import { Client, Connection as TemporalConnection } from '@temporalio/client';
import mongoose, { type Connection } from 'mongoose';
import { progress, sleep } from './procs';

/**
 * Watches a phase until every acknowledged event has its outcome recorded in the store (status
 * `processed` or `failed`). The cheap signal, read every second, is Temporal's count of closed
 * `processStripeEvent` executions (a workflow closes only after it recorded the event's outcome);
 * once it says all are done, the authoritative count — `countDocuments` by status on
 * `stripe_events`, a full scan on FerretDB, so not read every second — confirms.
 */
export interface StoreCounts {
  processed: number;
  failed: number;
  /** Closed processStripeEvent executions. */
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

  async counts(): Promise<StoreCounts> {
    const events = this.connection.db!.collection('stripe_events');
    const [processed, failed, closedWorkflows] = await Promise.all([
      events.countDocuments({ status: 'processed' }),
      events.countDocuments({ status: 'failed' }),
      this.closedWorkflows(),
    ]);
    return { processed, failed, closedWorkflows };
  }

  /**
   * Waits until `expected` more events than `before` are processed or failed. `startedAt` is the
   * phase's first send; the result's seconds run from there.
   */
  async waitForOutcomes(options: {
    label: string;
    expected: number;
    before: StoreCounts;
    startedAt: number;
    timeoutMs: number;
  }): Promise<CompletionResult> {
    const { label, expected, before, startedAt, timeoutMs } = options;
    const deadline = Date.now() + timeoutMs;
    let lastReport = 0;
    let lastConfirm = 0;
    let closed = 0;
    const outcomes = (current: StoreCounts) => current.processed + current.failed - before.processed - before.failed;
    const reached: Record<number, number | null> = { 50: null, 90: null, 99: null };
    const result = (current: StoreCounts, at: number, timedOut: boolean): CompletionResult => ({
      seconds: (at - startedAt) / 1000,
      processed: current.processed - before.processed,
      failed: current.failed - before.failed,
      timed_out: timedOut,
      open_workflows_at_end: Math.max(0, expected - closed),
      closed_50pct_s: reached[50]!,
      closed_90pct_s: reached[90]!,
      closed_99pct_s: reached[99]!,
    });
    while (Date.now() < deadline) {
      closed = (await this.closedWorkflows()) - before.closedWorkflows;
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
        const current = await this.counts();
        if (outcomes(current) >= expected) return result(current, now, false);
      }
      await sleep(1_000);
    }
    const current = await this.counts();
    return result(current, Date.now(), outcomes(current) < expected);
  }
}
