import type { Client } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { EndpointStore } from '../stores/endpoint-store';
import type { MessageStore } from '../stores/message-store';
import type { DeliveryPlan } from './delivery-plan';
import { parseAllowList, type AllowList, type GuardOptions } from './ssrf-guard';

/** Retry delays vary by ±10 % so that many messages failing together do not retry together. */
const JITTER_RATIO = 0.1;

/**
 * What the outbound activities (activities/outbound.ts) are built from. Declared here, on the
 * src/ side, so imports run one way: activities import src/, src/ never imports activities/
 * (only the worker wiring, src/worker/create-worker.ts, does).
 */
export interface OutboundActivityDeps {
  endpoints: EndpointStore;
  messages: MessageStore;
  /** Checked again at every delivery: a destination the allow list no longer covers is refused. */
  allow: AllowList;
  /** HTTP timeout of one attempt. */
  timeoutMs: number;
  plan: DeliveryPlan;
  /** Starts and signals the per (endpoint, object) sequence workflows, on the worker's task queue. */
  temporal: { client: Client; taskQueue: string };
  logger: Logger;
  /** Tests inject a resolver so no DNS query leaves the machine. */
  guard?: GuardOptions;
  /** Counts every HTTP attempt by its result (`hookflow_outbound_attempts_total`). */
  observe?: OutboundObserver;
}

export interface OutboundObserver {
  /** `delivered`, `failed`, `gone` (410) or `skipped` (endpoint disabled before the request). */
  attempt(result: 'delivered' | 'failed' | 'gone' | 'skipped'): void;
}

/** Everything the outbound activities need, from config and the worker's stores and Temporal client. */
export function buildOutboundDeps(
  config: Config,
  stores: { endpoints: EndpointStore; messages: MessageStore },
  temporal: Client,
  log: Logger,
  observe?: OutboundObserver,
): OutboundActivityDeps {
  return {
    endpoints: stores.endpoints,
    messages: stores.messages,
    allow: outboundAllowList(config),
    timeoutMs: config.outbound.timeoutMs,
    plan: deliveryPlanOf(config),
    temporal: { client: temporal, taskQueue: config.temporal.taskQueue },
    logger: log.child({ component: 'outbound' }),
    ...(observe ? { observe } : {}),
  };
}

/** The retry schedule of every delivery, first ones and resends alike. */
export function deliveryPlanOf(config: Config): DeliveryPlan {
  return {
    retryScheduleMs: config.outbound.retryScheduleMs,
    jitterRatio: JITTER_RATIO,
    maxRetryAfterMs: config.outbound.maxRetryAfterMs,
  };
}

/** HOOKFLOW_OUTBOUND_ALLOW: destinations allowed despite the SSRF guard. */
export function outboundAllowList(config: Config): AllowList {
  return parseAllowList(config.outbound.allow.join(','));
}
