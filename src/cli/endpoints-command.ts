import { Command } from 'commander';
import { OutboundDestinationRefused } from '../outbound/ssrf-guard';
import {
  EndpointNotFound,
  InvalidEndpoint,
  LockBusyError,
  MasterKeyRequired,
  type EndpointStore,
  type EndpointView,
} from '../stores/endpoint-store';
import { recoverCommand } from './deliveries-command';
import { storeCommandRunner, type StoreCommandIo } from './store-command';

export type EndpointsCommandDeps = StoreCommandIo;

/** Operator mistakes: answered with one line and exit code 1, not a stack trace. */
const USER_ERRORS = [OutboundDestinationRefused, InvalidEndpoint, EndpointNotFound, MasterKeyRequired, LockBusyError];

/**
 * `hookflow endpoints …`: the merchant endpoints that receive outbound webhooks (Standard Webhooks).
 * Registration refuses private, loopback, link-local and metadata destinations unless
 * HOOKFLOW_OUTBOUND_ALLOW covers them. A signing secret is printed only when created or rotated.
 */
export function endpointsCommand(deps: EndpointsCommandDeps = {}): Command {
  const { withStore, output } = storeCommandRunner<EndpointStore>(
    {
      name: 'endpoints',
      userErrors: USER_ERRORS,
      // Secrets sealed with HOOKFLOW_MASTER_KEY; registration checked against HOOKFLOW_OUTBOUND_ALLOW.
      store: (stores) => stores.endpoints,
    },
    deps,
  );

  const endpoints = new Command('endpoints').description('manage outbound webhook endpoints of tenants');

  endpoints
    .command('add')
    .description('register an endpoint; prints its whsec_ signing secret once')
    .requiredOption('--tenant <id>', 'tenant the endpoint belongs to')
    .requiredOption('--url <url>', 'http(s) URL that receives the POSTs')
    .requiredOption('--events <types>', 'comma-separated outbound types: dispute.*,case.created or *')
    .option('--secret <whsec>', 'use this whsec_ secret instead of a generated one')
    .option('--json', 'print JSON')
    .action(async (options: { tenant: string; url: string; events: string; secret?: string; json?: boolean }) => {
      await withStore(async (store) => {
        const endpoint = await store.create({
          tenantId: options.tenant,
          url: options.url,
          eventTypes: options.events.split(','),
          ...(options.secret ? { secret: options.secret } : {}),
        });
        output(options.json, endpoint, `${describe(endpoint)}\n  signing secret (shown once): ${endpoint.secret}`);
      });
    });

  endpoints
    .command('list')
    .description('list endpoints (secrets are never shown)')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'print JSON')
    .action(async (options: { tenant?: string; json?: boolean }) => {
      await withStore(async (store) => {
        const all = await store.list(options.tenant);
        output(options.json, all, all.length === 0 ? 'no endpoints' : all.map(describe).join('\n'));
      });
    });

  endpoints
    .command('disable <id>')
    .description('stop deliveries to an endpoint; queued messages are skipped')
    .option('--reason <text>', 'why (shown in list)', 'disabled by operator')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { reason: string; json?: boolean }) => {
      await withStore(async (store) => {
        const endpoint = await store.setEnabled(id, false, options.reason);
        output(options.json, endpoint, describe(endpoint));
      });
    });

  endpoints
    .command('enable <id>')
    .description('resume deliveries to an endpoint (e.g. after a 410 Gone was fixed)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      await withStore(async (store) => {
        const endpoint = await store.setEnabled(id, true);
        output(options.json, endpoint, describe(endpoint));
      });
    });

  endpoints
    .command('rotate-secret <id>')
    .description('new signing secret; the old one keeps signing alongside for 24 h so the merchant can switch')
    .option('--secret <whsec>', 'use this whsec_ secret instead of a generated one')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { secret?: string; json?: boolean }) => {
      await withStore(async (store) => {
        const endpoint = await store.rotateSecret(id, options.secret);
        output(options.json, endpoint, `${describe(endpoint)}\n  new signing secret (shown once): ${endpoint.secret}`);
      });
    });

  endpoints.addCommand(recoverCommand(deps));

  return endpoints;
}

function describe(endpoint: EndpointView): string {
  const state = endpoint.enabled ? 'enabled' : `disabled (${endpoint.disabledReason ?? 'no reason'})`;
  return `${endpoint.endpointId}  tenant ${endpoint.tenantId}  ${endpoint.url}  [${endpoint.eventTypes.join(',')}]  ${state}`;
}
