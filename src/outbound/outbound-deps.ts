import type { Client } from '@temporalio/client';
import type { Connection } from 'mongoose';
import type { OutboundActivityDeps } from '../../activities/outbound';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { createSecretBox } from '../tenants/secret-box';
import { bindOutboundModels, ensureOutboundIndexes } from './endpoint-model';
import { lockModelOf } from './outbound-locks';
import { parseAllowList } from './ssrf-guard';

/** Retry delays vary by ±10 % so that many messages failing together do not retry together. */
const JITTER_RATIO = 0.1;

/** Everything the outbound activities need, built from config on the worker's connections. */
export async function buildOutboundDeps(
  config: Config,
  connection: Connection,
  temporal: Client,
  log: Logger,
): Promise<OutboundActivityDeps> {
  const models = bindOutboundModels(connection);
  await ensureOutboundIndexes(models);
  return {
    models,
    allow: parseAllowList(config.outbound.allow.join(',')),
    timeoutMs: config.outbound.timeoutMs,
    plan: {
      retryScheduleMs: config.outbound.retryScheduleMs,
      jitterRatio: JITTER_RATIO,
      maxRetryAfterMs: config.outbound.maxRetryAfterMs,
    },
    temporal: { client: temporal, taskQueue: config.temporal.taskQueue },
    logger: log.child({ component: 'outbound' }),
    secrets: config.tenants.masterKey ? createSecretBox(config.tenants.masterKey) : null,
    // connectDatabase bound it as db.models.Lock on this connection: the same model, not a second one.
    locks: lockModelOf(connection),
  };
}
