import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes operators filter on in the Temporal UI (design: "Temporal UI").
 * Ids and types only — never personal data such as emails or names.
 */
export const StripeEventType = defineSearchAttributeKey('StripeEventType', SearchAttributeType.KEYWORD);
export const StripeObjectId = defineSearchAttributeKey('StripeObjectId', SearchAttributeType.KEYWORD);
export const StripeCustomerId = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);
export const TenantId = defineSearchAttributeKey('TenantId', SearchAttributeType.KEYWORD);
export const StripeLivemode = defineSearchAttributeKey('StripeLivemode', SearchAttributeType.BOOL);
export const HookflowOutcome = defineSearchAttributeKey('HookflowOutcome', SearchAttributeType.KEYWORD);

export const ALL_SEARCH_ATTRIBUTES = [
  StripeEventType,
  StripeObjectId,
  StripeCustomerId,
  TenantId,
  StripeLivemode,
  HookflowOutcome,
] as const;
