/**
 * The 14 resources a snapshot backfill can load (design: "Backfill"), with their list endpoint and
 * the object-state `resource` their events route to (the first segment of the event type:
 * subscriptions arrive as `customer.subscription.*`, so their state rows live under `customer`);
 * `sdk` is the stripe-node resource whose `list` pages it — except `payment_method`, which is read per
 * customer (`customers.listPaymentMethods`, see walkCustomersPage in activities/stripe-activities.ts).
 */
export const SNAPSHOT_RESOURCES = {
  customer: { path: 'customers', sdk: 'customers', stateResource: 'customer' },
  charge: { path: 'charges', sdk: 'charges', stateResource: 'charge' },
  payment_intent: { path: 'payment_intents', sdk: 'paymentIntents', stateResource: 'payment_intent' },
  invoice: { path: 'invoices', sdk: 'invoices', stateResource: 'invoice' },
  subscription: { path: 'subscriptions', sdk: 'subscriptions', stateResource: 'customer' },
  product: { path: 'products', sdk: 'products', stateResource: 'product' },
  price: { path: 'prices', sdk: 'prices', stateResource: 'price' },
  payout: { path: 'payouts', sdk: 'payouts', stateResource: 'payout' },
  refund: { path: 'refunds', sdk: 'refunds', stateResource: 'refund' },
  payment_method: { path: 'payment_methods', sdk: 'paymentMethods', stateResource: 'payment_method' },
  balance_transaction: {
    path: 'balance_transactions',
    sdk: 'balanceTransactions',
    stateResource: 'balance_transaction',
  },
  coupon: { path: 'coupons', sdk: 'coupons', stateResource: 'coupon' },
  plan: { path: 'plans', sdk: 'plans', stateResource: 'plan' },
  setup_intent: { path: 'setup_intents', sdk: 'setupIntents', stateResource: 'setup_intent' },
} as const;

export type SnapshotResource = keyof typeof SNAPSHOT_RESOURCES;
export const SNAPSHOT_RESOURCE_NAMES = Object.keys(SNAPSHOT_RESOURCES) as SnapshotResource[];

export class UnknownResourceError extends Error {
  override readonly name = 'UnknownResourceError';
}

/** `all` → every resource; names checked, duplicates dropped, order kept. */
export function parseSnapshotResources(names: readonly string[]): SnapshotResource[] {
  if (names.includes('all')) return [...SNAPSHOT_RESOURCE_NAMES];
  const unknown = names.filter((name) => !Object.hasOwn(SNAPSHOT_RESOURCES, name));
  if (unknown.length > 0 || names.length === 0) {
    const what =
      unknown.length > 0 ? `unknown resource ${unknown.map((name) => `'${name}'`).join(', ')}` : 'no resource given';
    throw new UnknownResourceError(`${what}; choose from ${SNAPSHOT_RESOURCE_NAMES.join(', ')} (or all)`);
  }
  return [...new Set(names)] as SnapshotResource[];
}
