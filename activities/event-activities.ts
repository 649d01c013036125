import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Config } from '../src/config';
import { businessHandlerOf, CLERK_HANDLERS } from '../src/contracts';
import type { Stores } from '../src/stores';
import { summarizeEvent, type EventSummary, type ThinNotificationLike } from '../src/stripe/event-summary';
import { isThinNotification } from '../src/stripe/thin-events';
import type { ObjectRefetcher } from '../src/stripe/object-refetch';
import { truncatedChildList, type ChildListCompleter } from '../src/stripe/child-lists';
import type { StateOutcome } from '../src/contracts';
import { toApplicationFailure } from '../src/temporal/failure-mapper';
import type { BusinessHandlers } from './business-handlers';
import type { BusinessResult } from './business-types';
import type { OutboundDispatchInput, OutboundMessageRef } from './outbound-types';
import { activityLog, readStoredEvent, storedEventOf } from './stored-event';
import type { EventActivities, EventOutcome, EventProcessing, EventRef, ProcessResult } from './types';

export interface EventActivityDeps {
  stores: Pick<Stores, 'events' | 'objectState'>;
  state: Config['state'];
  /** Whether a tenant has a Clerk key (the business handlers' resolver); absent without business handlers. */
  clerkConfigured?: (tenantId: string) => Promise<boolean>;
  /** hookflow_events_processed_total{type,outcome} (worker metrics). */
  observe?: { eventProcessed(type: string, outcome: string): void };
  /**
   * Stripe API re-fetch (design: "Same-second ties must not silently drop the newer change"): a tie
   * stores the object as the API returns it (`source: refetch`), and `resources` (REFETCH_RESOURCES)
   * are always re-fetched instead of trusting the payload. Absent: ties are flagged, as before.
   */
  refetch?: { fetch: ObjectRefetcher; resources: string[] };
  /**
   * Reads a nested list Stripe sent cut short (`invoice.lines` past 10, …) in full from the API, so
   * the state write sees every child. Absent, or no key for the tenant: the truncated list is written
   * as incomplete (its children upserted, none removed; `childrenComplete: false`).
   */
  childLists?: ChildListCompleter;
  /**
   * The business handlers and the outbound messages' preparation: a type whose handler needs no
   * Clerk queue is then handled in the same local activity as its object state. Absent: the
   * workflow runs every handler as its own activity.
   */
  inlineBusiness?: {
    handlers: BusinessHandlers;
    prepareOutbound: (input: OutboundDispatchInput) => Promise<OutboundMessageRef[]>;
  };
}

/** Activities over injected dependencies: tests pass a real database, nothing is module-global. */
export function createEventActivities(deps: EventActivityDeps): EventActivities {
  const { events, objectState } = deps.stores;

  async function recordEventOutcome(outcome: EventOutcome): Promise<void> {
    // The run that records the status becomes the event's current run (support view, re-runs).
    const execution = currentExecution();
    await events.markStatus(
      outcome.tenantId,
      outcome.eventId,
      outcome.status,
      { outcome: outcome.outcome, error: outcome.error, reason: outcome.reason ?? null },
      execution ? { workflowId: execution.workflowId, runId: execution.runId } : undefined,
    );
    deps.observe?.eventProcessed(outcome.type ?? 'unknown', outcome.outcome);
  }

  /** A handler's outbound messages, each stored for every endpoint that subscribes to its type. */
  async function prepareOutbound(
    prepare: (input: OutboundDispatchInput) => Promise<OutboundMessageRef[]>,
    ref: EventRef,
    created: number,
    business: BusinessResult,
  ): Promise<OutboundMessageRef[][]> {
    const prepared: OutboundMessageRef[][] = [];
    for (const message of business.outbound) {
      prepared.push(
        await prepare({
          tenantId: ref.tenantId,
          stripeEventId: ref.eventId,
          stripeEventCreated: created,
          objectId: message.objectId,
          type: message.type,
          payload: message.data,
        }),
      );
    }
    return prepared;
  }

  return {
    /**
     * The object state and, in the same local activity, the business handler of the type — unless
     * it calls Clerk, whose queue's worker keeps Clerk's rate limit — with its outbound messages
     * stored. The outcome is recorded here too when nothing is left to queue. The name stays
     * `applyEventToState` so that runs recorded before keep replaying: their recorded results have
     * no `business`, and their workflow runs the handler as its own activity, as it did.
     */
    async applyEventToState(ref: EventRef): Promise<EventProcessing> {
      const read = await readStoredEvent(events, ref);
      // A thin notification is applied as the event its activity fetched (readStoredEvent).
      const event = read.payload as SnapshotEvent | ThinNotificationLike;
      const summary = summarizeEvent(event);
      // A thin notification left unfetched has no v1 object (`v2.core.*`): stored, nothing to apply.
      const state = isThinNotification(event)
        ? { ...stateBase(summary), objectId: null, outcome: 'no_object' as const }
        : await applyState(ref.tenantId, summary, event as SnapshotEvent);
      const handler = businessHandlerOf(summary.type);
      const callsClerk = handler !== null && CLERK_HANDLERS.includes(handler);
      const clerk =
        callsClerk && deps.clerkConfigured ? { clerkConfigured: await deps.clerkConfigured(ref.tenantId) } : {};
      const inline = deps.inlineBusiness;
      if (handler !== null && (!inline || (callsClerk && clerk.clerkConfigured !== false))) {
        return { ...state, ...clerk, recorded: false, business: null, outbound: [] };
      }
      const business = handler !== null && inline ? await inline.handlers[handler](ref, storedEventOf(read)) : null;
      const outbound =
        business && inline ? await prepareOutbound(inline.prepareOutbound, ref, state.created, business) : [];
      // Messages to queue: the workflow queues them, then records the outcome.
      const recorded = outbound.every((copies) => copies.length === 0);
      if (recorded) {
        await recordEventOutcome({
          ...ref,
          type: state.type,
          status: 'processed',
          outcome: business?.outcome ?? state.outcome,
          error: null,
          reason: business?.reason ?? null,
        });
      }
      return { ...state, ...clerk, recorded, business, outbound };
    },

    recordEventOutcome,
  };

  async function applyState(
    tenantId: string,
    summary: EventSummary,
    event: SnapshotEvent,
  ): Promise<Omit<ProcessResult, 'recorded'>> {
    const base = stateBase(summary);
    if (!isSelected(deps.state.resources, summary.resource)) {
      if (deps.state.unselected === 'skip') return { ...base, outcome: 'skipped' };
      if (deps.state.unselected === 'fail') {
        throw ApplicationFailure.nonRetryable(
          `resource ${summary.resource} is not selected (STATE_RESOURCES)`,
          'ResourceNotSelected',
        );
      }
    }
    if (!summary.objectId) return { ...base, outcome: 'no_object' };
    const objectId = summary.objectId;
    const account = typeof event.account === 'string' ? event.account : null;
    const refetch = async () => {
      try {
        return (await deps.refetch?.fetch(tenantId, summary.objectType, objectId, account)) ?? null;
      } catch (error) {
        throw toApplicationFailure(error, {
          service: 'Stripe',
          action: `re-fetching ${summary.objectType} ${objectId}`,
        });
      }
    };
    // Only an object with a truncated list costs anything here (one or more Stripe requests).
    const completeChildren = async (object: Record<string, unknown>) => {
      if (!deps.childLists || !truncatedChildList(summary.objectType, object)) return object;
      try {
        return await deps.childLists(tenantId, summary.objectType, object, account);
      } catch (error) {
        throw toApplicationFailure(error, {
          service: 'Stripe',
          action: `listing the ${truncatedChildList(summary.objectType, object)} of ${summary.objectType} ${objectId}`,
        });
      }
    };
    const write = async (object: Record<string, unknown>, source: 'webhook' | 'refetch') =>
      objectState.apply({
        tenantId,
        summary,
        object: await completeChildren(object),
        previousAttributes: event.data.previous_attributes,
        source,
      });
    const always = deps.refetch?.resources.includes(summary.resource) ? await refetch() : null;
    let written = await write(always ?? event.data.object, always ? 'refetch' : 'webhook');
    let outcome: StateOutcome = written.outcome;
    if (written.outcome === 'tie' && deps.refetch) {
      // Two changes in one second: Stripe gives no order, so the API's current object settles it.
      // Written again under this event's watermark, which clears the tie flag.
      const fresh = always ?? (await refetch());
      if (fresh) {
        written = await write(fresh, 'refetch');
        outcome = 'refetched';
      }
    }
    activityLog('object state written', { eventId: summary.eventId, outcome, children: written.children });
    return { ...base, outcome, children: written.children };
  }
}

type SnapshotEvent = Parameters<typeof summarizeEvent>[0] & {
  account?: unknown;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
};

function stateBase(summary: EventSummary) {
  return {
    type: summary.type,
    created: summary.created,
    resource: summary.resource,
    objectId: summary.objectId,
    children: 0,
  };
}

/** The workflow run of the executing activity; none when called outside an activity (tests, tools). */
function currentExecution(): { workflowId: string; runId: string } | undefined {
  try {
    return Context.current().info.workflowExecution;
  } catch {
    return undefined;
  }
}

function isSelected(resources: '*' | string[], resource: string): boolean {
  return resources === '*' || resources.includes(resource);
}
