import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config';
import { SEARCH_ATTRIBUTE_TYPES } from '../src/contracts';
import { PRODUCTION_MALLOC_ARENA_MAX, PRODUCTION_NODE_OPTIONS } from '../src/processes/node-options';
import {
  NAMESPACE_RETENTION_DAYS,
  NUM_HISTORY_SHARDS,
  POSTGRES_MAJOR,
  PROD_RECEIVERS,
  PROD_WORKERS,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_VERSION,
} from '../src/stack/prod-settings';
import { REPO_ROOT } from '../src/version';

/**
 * docker-compose.yml is the production truth a user deploys without anyone having started it here
 * (no Docker engine): it must say what `npm run stack:prod` runs and `npm run test:prod` proves
 * (src/stack/prod-settings.ts), register exactly SEARCH_ATTRIBUTE_TYPES, and configure hookflow
 * only with variables loadConfig knows.
 */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  volumes?: string[];
  deploy?: { replicas?: number };
}

const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const hookflow = Object.entries(services).filter(([, service]) => service.build !== undefined);
const byCommand = (command: string) => hookflow.filter(([, service]) => service.command?.[0] === command);
const imageTag = (name: string) => services[name]?.image?.split(':')[1];

describe('docker-compose.yml', () => {
  it('runs the versions the production-shape stack proves', () => {
    assert.equal(imageTag('temporal'), TEMPORAL_SERVER_VERSION);
    assert.equal(imageTag('temporal-search-attributes'), TEMPORAL_SERVER_VERSION);
    assert.equal(imageTag('temporal-ui'), TEMPORAL_UI_VERSION);
    assert.equal(imageTag('postgresql'), String(POSTGRES_MAJOR));
    assert.equal(services.temporal?.image, `temporalio/auto-setup:${TEMPORAL_SERVER_VERSION}`);
    const bootstrap = readFileSync(join(REPO_ROOT, 'scripts', 'bootstrap-prod.sh'), 'utf8');
    assert.match(bootstrap, new RegExp(`^TEMPORAL_SERVER_VERSION=v${TEMPORAL_SERVER_VERSION}$`, 'm'));
    assert.match(bootstrap, new RegExp(`^TEMPORAL_UI_VERSION=v${TEMPORAL_UI_VERSION}$`, 'm'));
    assert.match(bootstrap, new RegExp(`^POSTGRES_MAJOR=${POSTGRES_MAJOR}$`, 'm'));
  });

  it('pins every image to a version, never latest', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build !== undefined) continue;
      assert.match(service.image ?? '', /^[a-z0-9/_-]+:\d[\w.-]*$/, `${name} image ${service.image}`);
    }
  });

  it("has the stack's shard count, namespace retention and dynamic config", () => {
    const env = services.temporal?.environment ?? {};
    assert.equal(Number(env.NUM_HISTORY_SHARDS), NUM_HISTORY_SHARDS);
    assert.equal(env.DEFAULT_NAMESPACE_RETENTION, `${NAMESPACE_RETENTION_DAYS}d`);
    assert.equal(env.DB, 'postgres12', 'SQL persistence and visibility on PostgreSQL, no Elasticsearch');
    const mount = services.temporal?.volumes?.find((volume) => volume.includes('dynamicconfig'));
    const [hostPath, containerPath] = (mount ?? '').split(':');
    assert.equal(`/etc/temporal/${env.DYNAMIC_CONFIG_FILE_PATH}`, containerPath);
    const dynamic = parse(readFileSync(join(REPO_ROOT, hostPath!), 'utf8')) as Record<
      string,
      Array<{ value: unknown }>
    >;
    assert.deepEqual(
      Object.fromEntries(Object.entries(dynamic).map(([key, [entry]]) => [key, entry?.value])),
      TEMPORAL_DYNAMIC_CONFIG,
    );
  });

  it('registers exactly the search attributes of SEARCH_ATTRIBUTE_TYPES before hookflow starts', () => {
    const job = services['temporal-search-attributes']!;
    const pairs = String(job.environment?.SEARCH_ATTRIBUTES).trim().split(/\s+/);
    assert.deepEqual(
      Object.fromEntries(pairs.map((pair) => pair.split('='))),
      { ...SEARCH_ATTRIBUTE_TYPES },
      'SEARCH_ATTRIBUTES of temporal-search-attributes in docker-compose.yml must list SEARCH_ATTRIBUTE_TYPES (src/contracts.ts) as Name=Type',
    );
    assert.match(job.command?.join(' ') ?? '', /search-attribute create --namespace default/);
    assert.equal(job.restart, 'on-failure');
    for (const [name, service] of hookflow) {
      assert.equal(
        service.depends_on?.['temporal-search-attributes']?.condition,
        'service_completed_successfully',
        name,
      );
    }
  });

  it('has a health check on every long-running service, and hookflow waits for healthy dependencies', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'temporal-search-attributes') continue; // a one-shot job: it completes instead
      assert.ok(service.healthcheck?.test?.length, `${name} has a health check`);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        if (dependency === 'temporal-search-attributes') continue;
        assert.equal(condition, 'service_healthy', `${name} waits for ${dependency} to be healthy`);
      }
    }
  });

  it('publishes ports on 127.0.0.1 only, and hookflow listens on all interfaces only inside the network', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port}`);
    }
    for (const [name, service] of hookflow) {
      assert.equal(service.environment?.HOST, '0.0.0.0', `${name}: container interface, reachable only via compose`);
    }
    const receiverPorts = byCommand('serve').map(([, service]) => service.ports?.[0]?.split(':')[1]);
    assert.equal(new Set(receiverPorts).size, receiverPorts.length, 'each receiver on its own host port');
  });

  it('runs as many receivers and workers as the production-shape stack', () => {
    assert.equal(byCommand('serve').length, PROD_RECEIVERS);
    const workers = byCommand('worker').reduce((sum, [, service]) => sum + (service.deploy?.replicas ?? 1), 0);
    assert.equal(workers, PROD_WORKERS);
  });

  it('configures hookflow only with variables loadConfig reads, with values it accepts', () => {
    for (const [name, service] of hookflow) {
      const env = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [key, String(value)]),
      );
      // NODE_OPTIONS is Node's own (the heap caps, checked below), not a hookflow setting.
      const unknown = Object.keys(env).filter((key) => key !== 'NODE_OPTIONS' && !CONFIG_VARIABLES.includes(key));
      assert.deepEqual(unknown, [], `${name} sets variables loadConfig does not read`);
      // The secret comes from .env (env_file); any valid one stands in for it here.
      const config = loadConfig({ ...env, STRIPE_WEBHOOK_SECRET: 'whsec_compose_check' });
      assert.match(config.mongoUrl, /^mongodb:\/\/mongo:27017\/hookflow\?replicaSet=rs0$/);
      assert.equal(config.temporal.address, 'temporal:7233');
      assert.equal(config.env, 'production');
      if (service.command?.[0] === 'serve') {
        const healthPort = /127\.0\.0\.1:(\d+)\/healthz/.exec(service.healthcheck!.test.join(' '))?.[1];
        assert.equal(Number(healthPort), config.http.port, `${name} health check probes its own port`);
        assert.equal(Number(service.ports?.[0]?.split(':')[2]), config.http.port, `${name} publishes its own port`);
      } else {
        const metricsPort = /127\.0\.0\.1:(\d+)\/metrics/.exec(service.healthcheck!.test.join(' '))?.[1];
        assert.equal(Number(metricsPort), config.workerMetricsPort, `${name} health check reads its metrics port`);
      }
    }
    const temporalAddresses = [services['temporal-search-attributes'], services['temporal-ui']].map(
      (service) => service?.environment?.TEMPORAL_ADDRESS,
    );
    assert.deepEqual(temporalAddresses, ['temporal:7233', 'temporal:7233']);
  });

  it('runs each process with the heap caps and malloc arenas of src/processes/node-options.ts, the image defaulting to the worker cap', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const imageDefault = /^ENV NODE_OPTIONS="([^"]+)"$/m.exec(dockerfile)?.[1];
    assert.equal(imageDefault, PRODUCTION_NODE_OPTIONS.worker, 'Dockerfile ENV NODE_OPTIONS');
    assert.equal(
      /^ENV MALLOC_ARENA_MAX=(\S+)$/m.exec(dockerfile)?.[1],
      PRODUCTION_MALLOC_ARENA_MAX,
      'Dockerfile ENV MALLOC_ARENA_MAX',
    );
    for (const [name, service] of hookflow) {
      const role = service.command?.[0] === 'serve' ? 'receiver' : 'worker';
      const effective: unknown = service.environment?.NODE_OPTIONS ?? imageDefault;
      assert.equal(effective, PRODUCTION_NODE_OPTIONS[role], `${name} (${role}) NODE_OPTIONS`);
    }
  });
});
