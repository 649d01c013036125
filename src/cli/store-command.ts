import { loadConfig, type Config } from '../config';
import { connectDatabase } from '../db/connection';
import { storeOptionsFromConfig, type Stores } from '../stores';
import { databaseUnreachable } from './cli-errors';

export interface StoreCommandIo {
  /** Environment to load the config from; tests pass their own. */
  env?: NodeJS.ProcessEnv;
  write?: (text: string) => void;
  writeError?: (text: string) => void;
}

export interface StoreCommandSpec<Store> {
  /** `tenants`, `endpoints`: prefixes one-line error messages. */
  name: string;
  /** Checks that need no database (e.g. the master key), so the likeliest mistake is answered at once. */
  precheck?: (config: Config) => void;
  /** The store the command works on, out of the stores opened with the process's config. */
  store: (stores: Stores) => Store;
  /** Operator mistakes: answered with one line and exit code 1, not a stack trace. */
  userErrors: ReadonlyArray<abstract new (...args: never[]) => Error>;
}

/**
 * The shared frame of the management commands: load config, connect, open the store, run the
 * action, close; and print either JSON (`--json`) or a human line.
 */
export function storeCommandRunner<Store>(spec: StoreCommandSpec<Store>, io: StoreCommandIo = {}) {
  const write = io.write ?? ((text: string) => process.stdout.write(text));
  const writeError = io.writeError ?? ((text: string) => process.stderr.write(text));
  return {
    async withStore(run: (store: Store) => Promise<void>): Promise<void> {
      const config = loadConfig(io.env ?? process.env);
      spec.precheck?.(config);
      const db = await connectDatabase(config.mongoUrl, storeOptionsFromConfig(config)).catch((error: unknown) => {
        throw databaseUnreachable(error, config.mongoUrl) ?? error;
      });
      try {
        await run(spec.store(db.stores));
      } catch (error) {
        if (!spec.userErrors.some((type) => error instanceof type)) throw error;
        writeError(`hookflow ${spec.name}: ${(error as Error).message}\n`);
        process.exitCode = 1;
      } finally {
        await db.close();
      }
    },
    output(json: boolean | undefined, value: unknown, text: string): void {
      write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
    },
  };
}
