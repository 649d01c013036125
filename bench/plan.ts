/** How much each phase does: the full run, or `--quick` (a couple of minutes, for checking the harness). */
export interface Plan {
  quick: boolean;
  /** Seconds of load (50 connections, not measured) before a server's first measured step: JIT, caches. */
  warmUpS: number;
  ack: {
    concurrency: { connections: number; durationS: number };
    rates: number[];
    rateDurationS: number;
    /** The rate whose figures are the headline `ack.*`. */
    headlineRate: number;
    settleTimeoutMs: number;
  };
  /** Started with the receiver's starts in flight (WORKFLOW_START_CONCURRENCY), as hookflow's events are. */
  ceiling: { workflows: number };
  e2e: { events: number; connections: number };
  growth: { windowEvents: number; prefillTo: number; probeOps: number; connections: number };
  burst: { events: number; rate: number; timeoutMs: number };
  /** Bound on each wait for outcomes (e2e, each growth window). */
  outcomeTimeoutMs: number;
}

export const FULL_PLAN: Plan = {
  quick: false,
  warmUpS: 5,
  ack: {
    concurrency: { connections: 50, durationS: 10 },
    rates: [250, 500, 1000, 2000],
    rateDurationS: 20,
    headlineRate: 1000,
    settleTimeoutMs: 90_000,
  },
  ceiling: { workflows: 2000 },
  e2e: { events: 5000, connections: 20 },
  growth: { windowEvents: 10_000, prefillTo: 90_000, probeOps: 200, connections: 20 },
  burst: { events: 10_000, rate: 1000, timeoutMs: 20 * 60_000 },
  outcomeTimeoutMs: 30 * 60_000,
};

export const QUICK_PLAN: Plan = {
  quick: true,
  warmUpS: 3,
  ack: {
    concurrency: { connections: 50, durationS: 3 },
    rates: [250, 1000],
    rateDurationS: 4,
    headlineRate: 1000,
    settleTimeoutMs: 20_000,
  },
  ceiling: { workflows: 200 },
  e2e: { events: 300, connections: 20 },
  growth: { windowEvents: 300, prefillTo: 3000, probeOps: 50, connections: 20 },
  burst: { events: 1000, rate: 1000, timeoutMs: 5 * 60_000 },
  outcomeTimeoutMs: 5 * 60_000,
};

export const PHASES = ['ack', 'ceiling', 'e2e', 'growth', 'burst'] as const;
export type Phase = (typeof PHASES)[number];
