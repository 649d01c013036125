import { deletedStub, isResourceMissing } from './stripe-api';
import { SNAPSHOT_RESOURCES, type SnapshotResource } from './snapshot-resources';
import type { StripeClientResolver } from './stripe-clients';

/**
 * Reads an object's current state from the Stripe API — Stripe's advice when order matters
 * ("retrieve the latest version of the object") — or null when the tenant has no key or the object
 * type has no retrieve endpoint hookflow knows. An object the API no longer has (404
 * `resource_missing`) reads as a deleted stub. Other API errors are thrown for the caller's retry policy.
 */
export type ObjectRefetcher = (
  tenantId: string,
  objectType: string | null,
  objectId: string,
  account: string | null,
) => Promise<Record<string, unknown> | null>;

export function createObjectRefetcher(clients: StripeClientResolver): ObjectRefetcher {
  return async (tenantId, objectType, objectId, account) => {
    if (!objectType || !Object.hasOwn(SNAPSHOT_RESOURCES, objectType)) return null;
    const found = await clients.clientFor(tenantId);
    if (!found) return null;
    const api = found.client[SNAPSHOT_RESOURCES[objectType as SnapshotResource].sdk] as unknown as {
      retrieve(id: string, params: object, options: object): Promise<Record<string, unknown>>;
    };
    let object: Record<string, unknown>;
    try {
      object = await api.retrieve(objectId, {}, account ? { stripeAccount: account } : {});
    } catch (error) {
      // Gone from the API (a deletion that tied with another change, or since): deleted is its
      // current state, as the API would say for a customer. Anything else is the caller's to retry.
      if (isResourceMissing(error)) return deletedStub(objectId, objectType);
      throw error;
    }
    // The SDK adds `lastResponse` (headers, request id) to every result: not part of the object.
    const fields = { ...object };
    delete fields.lastResponse;
    return fields;
  };
}
