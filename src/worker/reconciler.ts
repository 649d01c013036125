import type { Logger } from '../logger';
import type { EventStore, InboxEntry } from '../stores/event-store';
import { summarizeEvent } from '../stripe/event-summary';
import type { StartEventWorkflowInput } from '../temporal/event-workflows';

export interface ReconcilerDeps {
  events: Pick<EventStore, 'inboxEntries' | 'findByKey' | 'releaseInbox' | 'requeueInbox' | 'markStartFailed'>;
  startWorkflow: (input: StartEventWorkflowInput) => Promise<unknown>;
  log: Logger;
  /** Inbox entries younger than this are left to the receiver that wrote them. */
  afterSeconds: number;
  intervalSeconds: number;
  /** Due inbox entries worked per pass. */
  batchSize?: number;
  /** Inbox entries read per pass (due or not): entries backing off never hide newer ones behind them. */
  readLimit?: number;
  /** Failed attempts of an entry before its events that still fail are marked `failed`. */
  maxAttempts?: number;
  /** Delay before an entry's next attempt, after `attempts` failed ones. */
  retryDelayMs?: (attempts: number) => number;
  observe?: ReconcilerObserver;
}

export type ReconcilerFailureReason = 'rejected' | 'unparseable' | 'budget_exhausted' | 'retryable' | 'unavailable';

export interface ReconcilerObserver {
  /** Events listed in the inbox entries the last pass read. */
  inboxPending(events: number, entries: number): void;
  failure(reason: ReconcilerFailureReason): void;
}

/** Backoff of an inbox entry whose starts failed: 15 s doubling to at most 10 minutes. */
function defaultRetryDelayMs(attempts: number): number {
  return Math.min(15_000 * 2 ** attempts, 10 * 60_000);
}

// gRPC status codes (grpc/status.h) of the start call. INVALID_ARGUMENT, FAILED_PRECONDITION and
// OUT_OF_RANGE say "this request will never succeed" (an id over Temporal's length limit, a search
// attribute over its size limit, a string gRPC cannot encode). UNAVAILABLE, DEADLINE_EXCEEDED,
// CANCELLED, UNAUTHENTICATED, PERMISSION_DENIED and NOT_FOUND (namespace) say "Temporal is away or
// misconfigured": true of every event, so they stop the pass and count against none of them.
const PERMANENT_CODES = new Set([3, 9, 11]);
const SYSTEMIC_CODES = new Set([1, 4, 5, 7, 14, 16]);

type StartFailure = 'permanent' | 'systemic' | 'retryable';

/** The Temporal client wraps the gRPC error (ServiceError → cause); look through the chain. */
export function classifyStartError(error: unknown): StartFailure {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number') {
      if (PERMANENT_CODES.has(code)) return 'permanent';
      if (SYSTEMIC_CODES.has(code)) return 'systemic';
      return 'retryable';
    }
    if (typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/.test(code)) return 'systemic';
    current = (current as { cause?: unknown }).cause;
  }
  return 'retryable';
}

class PassInterrupted extends Error {
  override readonly name = 'PassInterrupted';
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const cause = (error as { cause?: unknown })?.cause;
  const detail = cause instanceof Error && cause.message !== (error as Error).message ? ` (${cause.message})` : '';
  return `${message}${detail}`.slice(0, 1_000);
}

/**
 * Starts the workflows of stored events that the receiver acknowledged but did not start: Temporal
 * was unreachable, the receiver's start queue was full, or the receiver died after the write. Its
 * work list is the inbox (event-models.ts): small, read by a pushed-down `LIMIT`. Starting is
 * idempotent (USE_EXISTING; a completed run is not repeated), so several workers may run it.
 *
 * Nothing acknowledged stays stuck here:
 * - an event Temporal refuses for good (INVALID_ARGUMENT …) or that cannot be read back is marked
 *   `failed` with the reason at once and leaves the inbox;
 * - an entry whose starts fail otherwise goes to the back of the inbox with a growing delay, and
 *   after `maxAttempts` its events are marked `failed` — never retried forever;
 * - entries backing off are skipped without being worked, and each pass reads past them
 *   (`readLimit`), so failing entries never starve newer ones;
 * - while Temporal or the database is away the pass stops at the first such error: an outage is
 *   no event's fault, so it costs no event its budget.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const batchSize = deps.batchSize ?? 100;
  const readLimit = Math.max(deps.readLimit ?? 1_000, batchSize);
  const maxAttempts = deps.maxAttempts ?? 10;
  const retryDelayMs = deps.retryDelayMs ?? defaultRetryDelayMs;

  async function failEvent(key: string, reason: ReconcilerFailureReason, message: string): Promise<void> {
    deps.observe?.failure(reason);
    await deps.events.markStartFailed(key, message);
    deps.log.error({ eventKey: key, reason, error: message }, 'event marked failed: its workflow cannot be started');
  }

  async function reconcileEntry(entry: InboxEntry): Promise<number> {
    let started = 0;
    const retryKeys: Array<{ key: string; error: string }> = [];
    for (const [index, key] of entry.eventKeys.entries()) {
      let event;
      try {
        event = await deps.events.findByKey(key);
      } catch (error) {
        deps.observe?.failure('unavailable');
        throw new PassInterrupted(`database: ${messageOf(error)}`);
      }
      // Not stored (the receiver died between its two writes, or answered 503): nothing to start.
      // Outcome recorded: nothing to start either.
      if (!event || event.status === 'processed' || event.status === 'failed') continue;
      let input: StartEventWorkflowInput;
      try {
        input = {
          tenantId: event.tenantId,
          summary: summarizeEvent(JSON.parse(event.rawBody) as Parameters<typeof summarizeEvent>[0]),
        };
      } catch (error) {
        await failEvent(key, 'unparseable', `stored event cannot be read back: ${messageOf(error)}`);
        continue;
      }
      try {
        await deps.startWorkflow(input);
        started++;
      } catch (error) {
        const kind = classifyStartError(error);
        if (kind === 'permanent') {
          await failEvent(key, 'rejected', `Temporal refused to start the workflow: ${messageOf(error)}`);
          continue;
        }
        if (kind === 'systemic') {
          deps.observe?.failure('unavailable');
          // Keys already handled are done; the rest keep their place and their budget.
          if (index > 0) {
            const rest = [...retryKeys.map((failed) => failed.key), ...entry.eventKeys.slice(index)];
            await deps.events.requeueInbox({ ...entry, attempts: entry.attempts - 1 }, rest, entry.notBefore);
          }
          throw new PassInterrupted(`temporal: ${messageOf(error)}`);
        }
        deps.observe?.failure('retryable');
        retryKeys.push({ key, error: messageOf(error) });
        deps.log.warn(
          { err: error, eventKey: key, attempts: entry.attempts + 1 },
          'reconciler could not start workflow',
        );
      }
    }
    if (retryKeys.length === 0) {
      await deps.events.releaseInbox(entry.id);
    } else if (entry.attempts + 1 >= maxAttempts) {
      for (const { key, error } of retryKeys) {
        await failEvent(key, 'budget_exhausted', `workflow start failed ${maxAttempts} times; last error: ${error}`);
      }
      await deps.events.releaseInbox(entry.id);
    } else {
      await deps.events.requeueInbox(
        entry,
        retryKeys.map((failed) => failed.key),
        new Date(Date.now() + retryDelayMs(entry.attempts)),
      );
    }
    return started;
  }

  async function reconcileOnce(): Promise<number> {
    const now = Date.now();
    const ripeBefore = now - deps.afterSeconds * 1000;
    const entries = await deps.events.inboxEntries(readLimit);
    deps.observe?.inboxPending(
      entries.reduce((sum, entry) => sum + entry.eventKeys.length, 0),
      entries.length,
    );
    let started = 0;
    let worked = 0;
    try {
      for (const entry of entries) {
        if (worked >= batchSize) break;
        if (entry.receivedAt.getTime() > ripeBefore || entry.notBefore.getTime() > now) continue;
        worked++;
        started += await reconcileEntry(entry);
      }
    } catch (error) {
      if (!(error instanceof PassInterrupted)) throw error;
      deps.log.warn({ reason: error.message }, 'reconciler pass stopped: a dependency is unavailable');
    }
    if (started > 0) deps.log.info({ started }, 'reconciler started deferred workflows');
    return started;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | null = null;
  return {
    reconcileOnce,
    start() {
      timer = setInterval(() => {
        if (running) return; // a long pass (a large backlog) is not overlapped by the next one
        running = reconcileOnce()
          .catch((error: unknown) => deps.log.warn({ err: error }, 'reconciler pass failed'))
          .finally(() => {
            running = null;
          });
      }, deps.intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
