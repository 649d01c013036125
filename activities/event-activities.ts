import { ApplicationFailure, log } from '@temporalio/activity';
import type { Config } from '../src/config';
import type { EventLedger } from '../src/stores/event-store';
import type { Models } from '../src/stores/event-models';
import { summarizeEvent } from '../src/stripe/event-summary';
import { applyObjectState } from './object-state';
import type { EventActivities, EventOutcome, EventRef, ProcessResult } from './types';

export interface EventActivityDeps {
  models: Models;
  ledger: EventLedger;
  state: Config['state'];
}

/** Activities over injected dependencies: tests pass a real database, nothing is module-global. */
export function createEventActivities(deps: EventActivityDeps): EventActivities {
  return {
    async applyEventToState(ref: EventRef): Promise<ProcessResult> {
      const stored = await deps.ledger.find(ref.tenantId, ref.eventId);
      if (!stored) {
        throw ApplicationFailure.nonRetryable(
          `event ${ref.eventId} of tenant ${ref.tenantId} is not stored`,
          'EventNotStored',
        );
      }
      await deps.ledger.markStatus(ref.tenantId, ref.eventId, 'processing');
      const event = JSON.parse(stored.rawBody) as Parameters<typeof summarizeEvent>[0] & {
        data: { previous_attributes?: Record<string, unknown> };
      };
      const summary = summarizeEvent(event);
      const base = {
        type: summary.type,
        created: summary.created,
        resource: summary.resource,
        objectId: summary.objectId,
        children: 0,
      };

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

      const result = await applyObjectState(deps.models, {
        tenantId: ref.tenantId,
        summary,
        object: event.data.object,
        previousAttributes: event.data.previous_attributes,
      });
      log.info('object state written', { eventId: ref.eventId, outcome: result.outcome, children: result.children });
      return { ...base, outcome: result.outcome, children: result.children };
    },

    async recordEventOutcome(outcome: EventOutcome): Promise<void> {
      await deps.ledger.markStatus(outcome.tenantId, outcome.eventId, outcome.status, {
        outcome: outcome.outcome,
        error: outcome.error,
      });
      await deps.ledger.clearPending(outcome.tenantId, outcome.eventId);
    },
  };
}

function isSelected(resources: '*' | string[], resource: string): boolean {
  return resources === '*' || resources.includes(resource);
}
