/**
 * Everything the benchmark takes from hookflow's own source, in one place: when modules move
 * (src/db → src/stores …) only this file changes. The receiver and the worker themselves are never
 * imported — they run as separate processes (`node dist/src/cli/main.js serve|worker`).
 */
export {
  DEFAULT_TEMPORAL_PRAGMAS,
  FERRETDB_BIN,
  FERRETDB_SQLITE_PRAGMAS,
  TEMPORAL_BIN,
  TEMPORAL_DEV_SERVER_NICE,
  startLocalStack,
} from '../src/stack/local-stack';
export type { LocalStack } from '../src/stack/local-stack';
export { freePort } from '../src/stack/ports';
export { signatureHeader, stripeEvent, stripeObject, uniqueId } from '../src/stripe/sample-events';
export type { StripeEventPayload } from '../src/stripe/sample-events';
export { summarizeEvent } from '../src/stripe/event-summary';
export type { EventSummary } from '../src/stripe/event-summary';
export { startEventWorkflow } from '../src/temporal/event-workflows';
export { REPO_ROOT } from '../src/version';
export { CONFIG_VARIABLES, DEFAULT_MAX_CACHED_WORKFLOWS } from '../src/config';
export {
  PRODUCTION_MALLOC_ARENA_MAX,
  PRODUCTION_NODE_OPTIONS,
  productionProcessEnv,
} from '../src/processes/node-options';
export { bindModels, eventKey, objectChildKey, objectStateKey } from '../src/stores/event-models';
export { bindBusinessModels, businessKey } from '../src/stores/business-schemas';
