import type { Logger } from '../logger';
import type { StartEventWorkflowInput } from './event-workflows';

/** Events acknowledged together (one inbox entry), whose workflows are started after the answer. */
export interface StartGroup {
  inboxId: string;
  inputs: StartEventWorkflowInput[];
  acknowledgedAt: number;
}

export interface WorkflowStarterDeps {
  start: (input: StartEventWorkflowInput) => Promise<unknown>;
  /** Every workflow of the group is started: its inbox entry can go. */
  release: (inboxId: string) => Promise<void>;
  log: Logger;
  /**
   * Starts in flight at once: bounds the load one receiver puts on Temporal. A function is read
   * before every start (the receiver's start pacer lowers it while acknowledgements are slow).
   */
  concurrency: number | (() => number);
  /** Starts waiting beyond those in flight; past it a group is left to the reconciler. */
  queueLimit: number;
  observe?: {
    startLagSeconds(seconds: number): void;
    started(result: 'started' | 'failed' | 'deferred', count: number): void;
  };
}

export interface WorkflowStarter {
  /** Queues the group's starts; false when the queue is full (the inbox entry stays for the reconciler). */
  enqueue(group: StartGroup): boolean;
  backlog(): number;
  inFlight(): number;
  /** The concurrency may have risen: start what now fits. */
  wake(): void;
  /** Waits for queued starts up to `timeoutMs`; what is left stays in the inbox for the reconciler. */
  drain(timeoutMs: number): Promise<void>;
}

interface GroupState {
  group: StartGroup;
  remaining: number;
  failed: boolean;
}

/**
 * Starts event workflows after the delivery was acknowledged, so Stripe never waits on Temporal
 * (design: "start its workflow without making Stripe wait: bounded in-flight starts"). Memory is
 * bounded by `queueLimit`; a refused or failed start loses nothing, because the events are stored
 * and listed in the inbox, which the worker's reconciler works through.
 */
export function createWorkflowStarter(deps: WorkflowStarterDeps): WorkflowStarter {
  const queue: Array<{ state: GroupState; input: StartEventWorkflowInput }> = [];
  let running = 0;
  let idle: Array<() => void> = [];
  const limit = typeof deps.concurrency === 'number' ? () => deps.concurrency as number : deps.concurrency;

  function pump(): void {
    while (running < limit() && queue.length > 0) {
      const next = queue.shift()!;
      running++;
      void startOne(next.state, next.input).finally(() => {
        running--;
        pump();
        if (running === 0 && queue.length === 0) {
          for (const resolve of idle) resolve();
          idle = [];
        }
      });
    }
  }

  async function startOne(state: GroupState, input: StartEventWorkflowInput): Promise<void> {
    try {
      await deps.start(input);
      deps.observe?.started('started', 1);
      deps.observe?.startLagSeconds((Date.now() - state.group.acknowledgedAt) / 1000);
    } catch (error) {
      state.failed = true;
      deps.observe?.started('failed', 1);
      deps.log.warn({ err: error, eventId: input.summary.eventId }, 'workflow start deferred to the reconciler');
    }
    state.remaining--;
    if (state.remaining === 0 && !state.failed) {
      await deps.release(state.group.inboxId).catch((error: unknown) => {
        // Harmless: the reconciler finds the entry, sees every event started, and removes it.
        deps.log.warn({ err: error, inboxId: state.group.inboxId }, 'could not release inbox entry');
      });
    }
  }

  return {
    enqueue(group) {
      if (queue.length + group.inputs.length > deps.queueLimit) {
        deps.observe?.started('deferred', group.inputs.length);
        return false;
      }
      const state: GroupState = { group, remaining: group.inputs.length, failed: false };
      for (const input of group.inputs) queue.push({ state, input });
      pump();
      return true;
    },
    backlog: () => queue.length,
    inFlight: () => running,
    wake: pump,
    async drain(timeoutMs) {
      if (running === 0 && queue.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => idle.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      // Whatever did not start stays listed in the inbox: the reconciler starts it.
      queue.length = 0;
    },
  };
}
