import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { assertUrlAllowed, type AllowList, type GuardOptions } from '../outbound/ssrf-guard';
import type { SecretBox } from '../tenants/secret-box';
import { bindLockModel, withLock } from './locks';
import { bindOutboundModels, type EndpointDoc } from './outbound-schemas';

/** A write waited too long for the endpoint's lock (another writer holds it); exported for the CLI's message. */
export { LockBusyError } from './locks';

/** Merchants switch to a rotated secret within this window; both are signed with meanwhile. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export class EndpointNotFound extends Error {
  override readonly name = 'EndpointNotFound';
}

export class InvalidEndpoint extends Error {
  override readonly name = 'InvalidEndpoint';
}

/** What callers see of an endpoint: never the secret, except right after it was created or rotated. */
export interface EndpointView {
  endpointId: string;
  tenantId: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  createdAt: Date;
}

export interface NewEndpoint {
  tenantId: string;
  url: string;
  eventTypes: string[];
  secret?: string;
}

export interface EndpointStoreOptions {
  /** Destinations allowed despite the SSRF guard (HOOKFLOW_OUTBOUND_ALLOW). */
  allow: AllowList;
  /** AES-256-GCM under HOOKFLOW_MASTER_KEY; null when no key is configured (secrets then cannot be stored or read). */
  secrets: SecretBox | null;
  /** Tests inject a resolver so no DNS query leaves the machine. */
  guard?: GuardOptions;
}

export class MasterKeyRequired extends Error {
  override readonly name = 'MasterKeyRequired';
}

/**
 * Standard Webhooks secrets are `whsec_` + base64 of 24–64 random bytes; 32 bytes match the
 * HMAC-SHA256 key size.
 */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** `*` matches everything, `dispute.*` every type under `dispute.`, anything else exactly. */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some(
    (pattern) =>
      pattern === '*' || pattern === type || (pattern.endsWith('.*') && type.startsWith(pattern.slice(0, -1))),
  );
}

/**
 * Endpoints, addressed by `_id` = endpoint id. Every update of an endpoint document runs under the
 * endpoint's lock: FerretDB 1.x rewrites a whole document on each update without isolation, so an
 * operator's `endpoints disable` racing the worker's 410 handler, or a rotation, could undo each
 * other's fields.
 */
export function createEndpointStore(connection: Connection, options: EndpointStoreOptions) {
  const { OutboundEndpoint } = bindOutboundModels(connection);
  const locks = bindLockModel(connection);
  const locked = <T>(endpointId: string, work: () => Promise<T>) => withLock(locks, `endpoint:${endpointId}`, work);
  // The endpoint id is bound to each sealed secret (AES-GCM additional data): a secret copied onto
  // another endpoint's row does not open.
  const box = () => {
    if (!options.secrets) {
      throw new MasterKeyRequired('HOOKFLOW_MASTER_KEY is not set: outbound endpoint secrets are encrypted with it');
    }
    return options.secrets;
  };
  const seal = (endpointId: string, secret: string) => box().seal(secret, `outbound-endpoint:${endpointId}`);
  const open = (endpointId: string, sealed: string) => box().open(sealed, `outbound-endpoint:${endpointId}`);

  return {
    /** Registers an endpoint after the SSRF check; returns it with its secret (shown once). */
    async create(input: NewEndpoint): Promise<EndpointView & { secret: string }> {
      const target = await assertUrlAllowed(input.url, options.allow, options.guard);
      const eventTypes = validEventTypes(input.eventTypes);
      const secret = input.secret ?? generateSecret();
      validSecret(secret);
      const now = new Date();
      const endpointId = `ep_${randomBytes(12).toString('hex')}`;
      const doc = await OutboundEndpoint.create({
        _id: endpointId,
        endpointId,
        tenantId: input.tenantId,
        url: target.url.href,
        eventTypes,
        secret: seal(endpointId, secret),
        enabled: true,
        createdAt: now,
        updatedAt: now,
      });
      return { ...view(doc.toObject()), secret };
    },

    async list(tenantId?: string): Promise<EndpointView[]> {
      const docs = await OutboundEndpoint.find(tenantId ? { tenantId } : {})
        .sort({ createdAt: 1 })
        .lean();
      return docs.map(view);
    },

    async get(endpointId: string): Promise<EndpointView> {
      return view(await mustLoad(endpointId));
    },

    /**
     * Enabled endpoints of a tenant that subscribe to an outbound type. Not an `_id` lookup (a scan
     * on FerretDB), over a collection that grows with the endpoints operators register, not with events.
     */
    async matching(tenantId: string, type: string): Promise<EndpointView[]> {
      const docs = await OutboundEndpoint.find({ tenantId, enabled: true }).sort({ createdAt: 1 }).lean();
      return docs.filter((doc) => matchesEventType(doc.eventTypes, type)).map(view);
    },

    async setEnabled(endpointId: string, enabled: boolean, reason: string | null = null): Promise<EndpointView> {
      return locked(endpointId, async () => {
        const result = await OutboundEndpoint.updateOne(
          { _id: endpointId },
          { $set: { enabled, disabledReason: enabled ? null : (reason ?? 'disabled'), updatedAt: new Date() } },
        );
        if (result.matchedCount === 0) throw new EndpointNotFound(`no endpoint ${endpointId}`);
        return view(await mustLoad(endpointId));
      });
    },

    /** New secret now; the old one keeps being signed with for ROTATION_OVERLAP_MS. */
    async rotateSecret(endpointId: string, secret = generateSecret()): Promise<EndpointView & { secret: string }> {
      validSecret(secret);
      // Read-compare-write (the current secret becomes the previous one): under the endpoint's lock.
      return locked(endpointId, async () => {
        const current = await mustLoad(endpointId);
        const now = new Date();
        await OutboundEndpoint.updateOne(
          { _id: endpointId },
          {
            $set: {
              secret: seal(endpointId, secret),
              previousSecret: current.secret,
              previousSecretExpiresAt: new Date(now.getTime() + ROTATION_OVERLAP_MS),
              updatedAt: now,
            },
          },
        );
        return { ...view(current), secret };
      });
    },

    /** The secrets a delivery is signed with right now (current first). */
    async signingSecrets(endpointId: string, now = new Date()): Promise<string[]> {
      return secretsOf(await mustLoad(endpointId), now);
    },

    /** The same, from a document already loaded (`load`): the delivery activity reads the endpoint once. */
    signingSecretsOf(doc: EndpointDoc, now = new Date()): string[] {
      return secretsOf(doc, now);
    },

    /** The stored document (url, enabled flag, sealed secrets), or null; for the delivery activity. */
    async load(endpointId: string): Promise<EndpointDoc | null> {
      return OutboundEndpoint.findOne({ _id: endpointId }).lean();
    },
  };

  function secretsOf(doc: EndpointDoc, now: Date): string[] {
    const secrets = [open(doc.endpointId, doc.secret)];
    if (doc.previousSecret && doc.previousSecretExpiresAt && doc.previousSecretExpiresAt > now) {
      secrets.push(open(doc.endpointId, doc.previousSecret));
    }
    return secrets;
  }

  async function mustLoad(endpointId: string): Promise<EndpointDoc> {
    const doc = await OutboundEndpoint.findOne({ _id: endpointId }).lean();
    if (!doc) throw new EndpointNotFound(`no endpoint ${endpointId}`);
    return doc;
  }
}

export type EndpointStore = ReturnType<typeof createEndpointStore>;

function view(doc: EndpointDoc): EndpointView {
  return {
    endpointId: doc.endpointId,
    tenantId: doc.tenantId,
    url: doc.url,
    eventTypes: [...doc.eventTypes],
    enabled: doc.enabled,
    disabledReason: doc.disabledReason ?? null,
    createdAt: doc.createdAt,
  };
}

function validEventTypes(eventTypes: string[]): string[] {
  const cleaned = eventTypes.map((type) => type.trim()).filter((type) => type.length > 0);
  if (cleaned.length === 0)
    throw new InvalidEndpoint('at least one event type is required (e.g. dispute.*,case.created)');
  for (const type of cleaned) {
    if (!/^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$/.test(type)) {
      throw new InvalidEndpoint(`invalid event type filter "${type}": use a type, a prefix ending in .* or *`);
    }
  }
  return cleaned;
}

function validSecret(secret: string): void {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : null;
  if (!key || key.length < 24 || key.length > 64) {
    throw new InvalidEndpoint('the secret must be whsec_ followed by base64 of 24 to 64 random bytes');
  }
}
