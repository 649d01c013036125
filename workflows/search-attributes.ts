import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { SearchAttributeName } from '../src/contracts';

/**
 * Typed keys of the custom search attributes operators filter on in the Temporal UI (design:
 * "Temporal UI"). The names and types are listed in the contracts module, which the dev stack
 * registers. Ids and types only — never personal data such as emails or names.
 */
const keyOf = <T extends 'KEYWORD' | 'BOOL'>(name: SearchAttributeName, type: T) =>
  defineSearchAttributeKey(name, SearchAttributeType[type]);

export const StripeEventType = keyOf('StripeEventType', 'KEYWORD');
export const StripeObjectId = keyOf('StripeObjectId', 'KEYWORD');
export const StripeCustomerId = keyOf('StripeCustomerId', 'KEYWORD');
export const TenantId = keyOf('TenantId', 'KEYWORD');
export const StripeLivemode = keyOf('StripeLivemode', 'BOOL');
export const HookflowOutcome = keyOf('HookflowOutcome', 'KEYWORD');
export const StripeAccountId = keyOf('StripeAccountId', 'KEYWORD');
