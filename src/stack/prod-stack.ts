import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTE_TYPES } from '../contracts';
import { REPO_ROOT } from '../version';
import { FERRETDB_BIN, startFerretDb, waitFor } from './local-stack';
import { startManagedProcess, type ManagedProcess } from './managed-process';
import { freePort, freePortBetween, isListening } from './ports';
import {
  NAMESPACE_RETENTION_DAYS,
  NUM_HISTORY_SHARDS,
  POSTGRES_MAJOR,
  TEMPORAL_DYNAMIC_CONFIG,
  TEMPORAL_SERVER_VERSION,
} from './prod-settings';

const run = promisify(execFile);

export const TEMPORAL_SERVER_BIN = join(REPO_ROOT, '.tools', 'bin', 'temporal-server');
export const TEMPORAL_SQL_TOOL_BIN = join(REPO_ROOT, '.tools', 'bin', 'temporal-sql-tool');
export const TEMPORAL_UI_BIN = join(REPO_ROOT, '.tools', 'bin', 'temporal-ui-server');
const SCHEMA_DIR = join(REPO_ROOT, '.tools', 'temporal-schema', 'postgresql', 'v12');
const PG_BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;
/** The compose file's credentials too; the cluster listens on loopback only. */
const PG_USER = 'temporal';
const PG_PASSWORD = 'temporal';
const DATABASES = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;

/** Every port the production-shape infrastructure listens on (all on 127.0.0.1). */
export interface ProdInfraPorts {
  /** Temporal frontend gRPC: what clients, workers and the UI connect to. */
  temporal: number;
  temporalHttp: number;
  /** Internal gRPC and membership ports of the history, matching and worker services. */
  internal: {
    frontendMembership: number;
    history: number;
    historyMembership: number;
    matching: number;
    matchingMembership: number;
  };
  internalWorker: { grpc: number; membership: number };
  postgres: number;
  mongo: number;
  /** Temporal UI, or null for none. */
  ui: number | null;
}

/** Temporal's own defaults (config/development-postgres12.yaml) plus hookflow's usual ports. */
export function defaultProdPorts(): ProdInfraPorts {
  return {
    temporal: 7233,
    temporalHttp: 7243,
    internal: {
      frontendMembership: 6933,
      history: 7234,
      historyMembership: 6934,
      matching: 7235,
      matchingMembership: 6935,
    },
    internalWorker: { grpc: 7239, membership: 6939 },
    postgres: 5432,
    mongo: 27017,
    ui: 8233,
  };
}

/** Free loopback ports for a private stack (tests, bench), so it never collides with a running one. */
export async function freeProdPorts(withUi = false): Promise<ProdInfraPorts> {
  const next = () => freePort();
  // Temporal stores membership ports in a smallint column (cluster_membership.rpc_port).
  const membership = () => freePortBetween(20_000, 32_000);
  return {
    temporal: await next(),
    temporalHttp: await next(),
    internal: {
      frontendMembership: await membership(),
      history: await next(),
      historyMembership: await membership(),
      matching: await next(),
      matchingMembership: await membership(),
    },
    internalWorker: { grpc: await next(), membership: await membership() },
    postgres: await next(),
    mongo: await next(),
    ui: withUi ? await next() : null,
  };
}

export interface ProdInfraOptions {
  /** Where the PostgreSQL cluster, FerretDB's files, configs and logs live. */
  dataDir: string;
  ports: ProdInfraPorts;
  namespace?: string;
  /** Dynamic config values over TEMPORAL_DYNAMIC_CONFIG (measurements of other partition counts). */
  dynamicConfig?: Record<string, boolean | number>;
  startTimeoutMs?: number;
}

export interface ProdInfra {
  temporalAddress: string;
  namespace: string;
  mongoUrl: (database: string) => string;
  uiUrl: string | null;
  logDir: string;
  /** The infrastructure processes, for the bench's CPU and memory probes. */
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

/**
 * Production-shape infrastructure on loopback: PostgreSQL 15 (its own cluster under `dataDir`),
 * temporal-server v1.28.1 on it with several history shards and SQL visibility, the namespace and
 * hookflow's search attributes registered through the operator API, the Temporal UI server, and
 * FerretDB as the database. Installed by scripts/bootstrap-prod.sh. A second start on the same
 * `dataDir` reuses the cluster and its data.
 */
export async function startProdInfra(options: ProdInfraOptions): Promise<ProdInfra> {
  for (const [bin, what] of [
    [TEMPORAL_SERVER_BIN, 'temporal-server'],
    [TEMPORAL_SQL_TOOL_BIN, 'temporal-sql-tool'],
    [FERRETDB_BIN, 'ferretdb'],
    [join(PG_BIN, 'postgres'), `PostgreSQL ${POSTGRES_MAJOR}`],
    ...(options.ports.ui ? [[TEMPORAL_UI_BIN, 'temporal-ui-server'] as const] : []),
  ] as const) {
    if (!existsSync(bin))
      throw new Error(`${what} is not installed at ${bin}; run "bash scripts/bootstrap-prod.sh" first.`);
  }
  for (const port of listenPorts(options.ports)) {
    if (await isListening(port)) {
      throw new Error(`port ${port} on 127.0.0.1 is already in use (another hookflow stack running?); stop it first.`);
    }
  }
  const namespace = options.namespace ?? 'default';
  const logDir = join(options.dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const deadline = Date.now() + (options.startTimeoutMs ?? 180_000);
  const started: ManagedProcess[] = [];
  // In reverse start order, one after the other: PostgreSQL stops last, after its clients left.
  const stopAll = async () => {
    for (const process of [...started].reverse()) await process.stop(15_000);
  };
  const temporalAddress = `127.0.0.1:${options.ports.temporal}`;
  try {
    const ferretDir = join(options.dataDir, 'ferretdb');
    mkdirSync(join(ferretDir, 'state'), { recursive: true });
    const ferret = startFerretDb({ mongoPort: options.ports.mongo }, ferretDir, logDir);
    started.push(ferret);
    const postgres = startPostgres(options, logDir);
    started.push(postgres);
    await waitFor(postgres, deadline, () => postgresAccepting(options.ports.postgres));
    await setUpSchemas(options.dataDir, options.ports.postgres);
    const temporal = startTemporalServer(options, logDir);
    started.push(temporal);
    await waitFor(temporal, deadline, () => frontendAnswers(temporalAddress));
    await registerNamespace(temporalAddress, namespace);
    await waitFor(temporal, deadline, () => searchAttributesUsable(temporalAddress, namespace));
    await waitFor(ferret, deadline, () => isListening(options.ports.mongo));
    if (options.ports.ui) {
      const ui = startUi(options, namespace, logDir);
      started.push(ui);
      await waitFor(ui, deadline, () => isListening(options.ports.ui!));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return {
    temporalAddress,
    namespace,
    mongoUrl: (database) => `mongodb://127.0.0.1:${options.ports.mongo}/${database}`,
    uiUrl: options.ports.ui ? `http://127.0.0.1:${options.ports.ui}` : null,
    logDir,
    processes: started,
    stop: stopAll,
  };
}

function listenPorts(ports: ProdInfraPorts): number[] {
  return [
    ports.temporal,
    ports.temporalHttp,
    ...Object.values(ports.internal),
    ...Object.values(ports.internalWorker),
    ports.postgres,
    ports.mongo,
    ...(ports.ui ? [ports.ui] : []),
  ];
}

// --- PostgreSQL ------------------------------------------------------------------------------------

/** PostgreSQL refuses to run as root: as root, its files belong to and it runs as `postgres`. */
function postgresUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' })));
  return { uid: uid!, gid: gid! };
}

/** `setpriv` execs in place (unlike runuser, which forks): the pid we signal is PostgreSQL itself. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return postgresUser()
    ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]]
    : [command, args];
}

function startPostgres(options: ProdInfraOptions, logDir: string): ManagedProcess {
  const pgDir = join(options.dataDir, 'postgres');
  const user = postgresUser();
  if (user) chmodSync(options.dataDir, 0o755); // the postgres user must reach its cluster directory
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    rmSync(pgDir, { recursive: true, force: true });
    mkdirSync(pgDir, { mode: 0o700 });
    const pwFile = join(options.dataDir, 'postgres-password');
    writeFileSync(pwFile, PG_PASSWORD + '\n', { mode: 0o600 });
    if (user) {
      chownSync(pgDir, user.uid, user.gid);
      chownSync(pwFile, user.uid, user.gid);
    }
    try {
      const [command, args] = asPostgres(join(PG_BIN, 'initdb'), [
        '-D',
        pgDir,
        '-U',
        PG_USER,
        `--pwfile=${pwFile}`,
        '--auth-local=scram-sha-256',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C',
      ]);
      execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } finally {
      rmSync(pwFile, { force: true });
    }
  }
  const [command, args] = asPostgres(join(PG_BIN, 'postgres'), [
    '-D',
    pgDir,
    '-p',
    String(options.ports.postgres),
    '-c',
    'listen_addresses=127.0.0.1',
    // TCP only: no socket file in /var/run/postgresql to collide with a system cluster.
    '-c',
    'unix_socket_directories=',
    // Temporal's services each open their own pools (config maxConns below) in one process.
    '-c',
    'max_connections=200',
  ]);
  return startManagedProcess('postgres', command, args, join(logDir, 'postgres.log'));
}

/** Listening is not enough: during start-up and crash recovery PostgreSQL refuses sessions. */
async function postgresAccepting(port: number): Promise<boolean> {
  try {
    await run(join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '2']);
    return true;
  } catch {
    return false;
  }
}

/**
 * temporal-sql-tool, as Temporal's auto-setup image does: create each database, set up the base
 * schema once, then apply the versioned updates (a no-op when current, so a restart or an upgraded
 * server brings an existing cluster up to date).
 */
async function setUpSchemas(dataDir: string, port: number): Promise<void> {
  const stamp = join(dataDir, 'postgres', 'hookflow-schema-created');
  const created = existsSync(stamp);
  for (const database of DATABASES) {
    const tool = (...args: string[]) =>
      run(TEMPORAL_SQL_TOOL_BIN, [
        '--plugin',
        'postgres12',
        '--ep',
        '127.0.0.1',
        '--port',
        String(port),
        '--user',
        PG_USER,
        '--password',
        PG_PASSWORD,
        '--db',
        database.name,
        ...args,
      ]).catch((error: Error & { stderr?: string }) => {
        throw new Error(
          `temporal-sql-tool ${args[0]} on ${database.name} failed: ${error.stderr?.trim() || error.message}`,
        );
      });
    if (!created) {
      await tool('create-database');
      await tool('setup-schema', '-v', '0.0');
    }
    await tool('update-schema', '-d', join(SCHEMA_DIR, database.schema, 'versioned'));
  }
  writeFileSync(stamp, `${TEMPORAL_SERVER_VERSION}\n`);
}

// --- Temporal server -------------------------------------------------------------------------------

function startTemporalServer(options: ProdInfraOptions, logDir: string): ManagedProcess {
  const root = join(options.dataDir, 'temporal');
  mkdirSync(join(root, 'config', 'dynamicconfig'), { recursive: true });
  const dynamicConfigFile = join(root, 'config', 'dynamicconfig', 'hookflow.yaml');
  // JSON is YAML: both files are written as JSON so no YAML library is needed here.
  writeFileSync(
    dynamicConfigFile,
    JSON.stringify(
      Object.fromEntries(
        Object.entries({ ...TEMPORAL_DYNAMIC_CONFIG, ...options.dynamicConfig }).map(([key, value]) => [
          key,
          [{ value }],
        ]),
      ),
      null,
      2,
    ),
  );
  writeFileSync(
    join(root, 'config', 'development.yaml'),
    JSON.stringify(temporalConfig(options.ports, dynamicConfigFile), null, 2),
  );
  return startManagedProcess(
    'temporal-server',
    TEMPORAL_SERVER_BIN,
    ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'],
    join(logDir, 'temporal-server.log'),
    { ...process.env, TEMPORAL_VERSION_CHECK_DISABLED: '1' },
  );
}

/** Temporal's config/development-postgres12.yaml, reduced to what runs here, on the given ports. */
export function temporalConfig(ports: ProdInfraPorts, dynamicConfigFile: string): object {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${ports.postgres}`,
      connectProtocol: 'tcp',
      user: PG_USER,
      password: PG_PASSWORD,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, extra: object = {}) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra },
  });
  return {
    log: { stdout: true, level: 'warn', format: 'json' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: NUM_HISTORY_SHARDS,
      datastores: {
        'postgres-default': datastore('temporal', 20),
        // SQL visibility: custom search attributes and list queries without Elasticsearch.
        'postgres-visibility': datastore('temporal_visibility', 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: service(ports.temporal, ports.internal.frontendMembership, { httpPort: ports.temporalHttp }),
      history: service(ports.internal.history, ports.internal.historyMembership),
      matching: service(ports.internal.matching, ports.internal.matchingMembership),
      worker: service(ports.internalWorker.grpc, ports.internalWorker.membership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.temporal}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

async function frontendAnswers(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '1s' });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** temporal.api.enums.v1.IndexedValueType, by the names SEARCH_ATTRIBUTE_TYPES uses. */
const INDEXED_VALUE_TYPES: Record<string, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/**
 * A real server starts with no namespace: register it with hookflow's retention, then add the
 * search attributes of the one list in src/contracts.ts that are missing (a restart finds them).
 * An attribute registered earlier with another type is an error a person must resolve.
 */
async function registerNamespace(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        description: 'hookflow',
        workflowExecutionRetentionPeriod: msToTs(`${NAMESPACE_RETENTION_DAYS} days`),
      });
    } catch (error) {
      if ((error as { code?: number }).code !== 6 /* ALREADY_EXISTS */) throw error;
    }
    const existing = await waitForNamespace(connection, namespace);
    const missing: Record<string, number> = {};
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) {
      const wanted = INDEXED_VALUE_TYPES[type];
      if (wanted === undefined) throw new Error(`search attribute ${name}: unknown type ${type}`);
      const have = existing[name];
      if (have === undefined) missing[name] = wanted;
      else if (have !== wanted) {
        throw new Error(`search attribute ${name} is registered with type ${have}, hookflow needs ${type} (${wanted})`);
      }
    }
    if (Object.keys(missing).length > 0) {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    }
  } finally {
    await connection.close();
  }
}

/** The namespace is readable through the operator API a moment after it is registered. */
async function waitForNamespace(connection: Connection, namespace: string): Promise<Record<string, number>> {
  for (let attempt = 0; ; attempt++) {
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      return Object.fromEntries(
        Object.entries(listed.customAttributes ?? {}).map(([name, type]) => [name, Number(type)]),
      );
    } catch (error) {
      if (attempt >= 60) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/**
 * Ready for hookflow once a visibility query naming every custom attribute is accepted: the
 * frontend's namespace and search-attribute caches have caught up, so the first workflow start
 * with search attributes cannot be refused.
 */
async function searchAttributesUsable(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: '1s' });
    const query = Object.entries(SEARCH_ATTRIBUTE_TYPES)
      .map(([name, type]) => (type === 'Bool' ? `${name} = true` : `${name} = 'ready-check'`))
      .join(' OR ');
    await connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

// --- Temporal UI -----------------------------------------------------------------------------------

/** The UI server the Temporal CLI embeds (github.com/temporalio/ui-server/v2), run on its own. */
function startUi(options: ProdInfraOptions, namespace: string, logDir: string): ManagedProcess {
  const root = join(options.dataDir, 'temporal-ui');
  mkdirSync(join(root, 'config'), { recursive: true });
  writeFileSync(
    join(root, 'config', 'development.yaml'),
    JSON.stringify(
      {
        temporalGrpcAddress: `127.0.0.1:${options.ports.temporal}`,
        host: '127.0.0.1',
        port: options.ports.ui,
        enableUi: true,
        defaultNamespace: namespace,
        // No call to temporal.io for the latest version.
        notifyOnNewVersion: false,
        cors: { cookieInsecure: true, allowOrigins: [`http://127.0.0.1:${options.ports.ui}`] },
        auth: { enabled: false },
      },
      null,
      2,
    ),
  );
  return startManagedProcess(
    'temporal-ui',
    TEMPORAL_UI_BIN,
    ['--root', root, '--config', 'config', '--env', 'development', 'start'],
    join(logDir, 'temporal-ui.log'),
  );
}
