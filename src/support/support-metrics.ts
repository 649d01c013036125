import { Counter, type Registry } from 'prom-client';
import type { RerunTrigger } from '../stores/rerun-store';

export interface SupportMetrics {
  /** hookflow_events_processed_total{type,outcome}: counted by the worker when a run records an outcome. */
  eventProcessed(type: string, outcome: string): void;
  /** hookflow_reruns_total{trigger,result}: counted by the process that starts the re-run. */
  rerun(trigger: RerunTrigger, result: 'started' | 'refused' | 'start_failed'): void;
}

/**
 * Operator metrics of the support view (issue: "Temporal UI for operators"). `type` is the Stripe
 * event type — a bounded set (Stripe's catalogue), no ids — so the label stays low-cardinality.
 */
export function createSupportMetrics(registry: Registry): SupportMetrics {
  const processed = new Counter({
    name: 'hookflow_events_processed_total',
    help: 'Stripe events whose run recorded an outcome, by event type and HookflowOutcome (failed included)',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  });
  const reruns = new Counter({
    name: 'hookflow_reruns_total',
    help: 'Re-runs requested, by trigger (manual, bulk, redelivery) and result (started, refused, start_failed)',
    labelNames: ['trigger', 'result'],
    registers: [registry],
  });
  return {
    eventProcessed: (type, outcome) => processed.inc({ type, outcome }),
    rerun: (trigger, result) => reruns.inc({ trigger, result }),
  };
}
