import { inspect } from 'node:util';
import { ConfigError } from '../config';

/**
 * A failure the person at the terminal can fix: its message says what is wrong and what to do, and
 * it is printed as one line without a stack trace.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Where a command connects, so a connection failure can name what it tried. */
export interface FailureHints {
  mongoUrl?: string;
  temporalAddress?: string;
}

/**
 * One line for any failure of a command: what is wrong and what to do. Errors hookflow does not
 * recognise keep their own message and point at `--debug` for the stack trace.
 */
export function describeFailure(error: unknown, hints: FailureHints = {}): string {
  if (error instanceof CliError) return oneLine(error.message);
  // ConfigError lists every bad variable on an indented line of its own: joined, they fit one line.
  if (error instanceof ConfigError) {
    return oneLine(
      error.message
        .replace(/:\n\s+/, ': ')
        .replace(/\n\s+/g, '; ')
        .replace(/\n/g, '. '),
    );
  }
  const translated = databaseUnreachable(error, hints.mongoUrl) ?? temporalUnreachable(error, hints.temporalAddress);
  if (translated) return translated.message;
  const code = errorCode(error);
  if (code === 'EADDRINUSE') {
    return `${firstLine(error)}: is hookflow already running? Stop it, or set PORT (and HOST) to a free address.`;
  }
  return `${firstLine(error)} (unexpected; run again with --debug for the stack trace)`;
}

/** The full error with its stack and causes, for `--debug` / `LOG_LEVEL=debug`. */
export function debugDetails(error: unknown): string {
  return inspect(error, { depth: 6 });
}

/** A MongoDB connection failure as a CliError naming the URL tried (credentials hidden), else null. */
export function databaseUnreachable(error: unknown, mongoUrl: string | undefined): CliError | null {
  const name = error instanceof Error ? error.name : '';
  if (!/^(Mongoose|Mongo)ServerSelectionError$|^MongoNetworkError$/.test(name)) return null;
  const where = mongoUrl ? ` at ${redactUrl(mongoUrl)}` : '';
  return new CliError(
    `cannot reach MongoDB${where} (${firstLine(error)}): is \`npm run dev\` running? Otherwise set MONGO_URL.`,
  );
}

function temporalUnreachable(error: unknown, address: string | undefined): CliError | null {
  // @grpc/grpc-js's plain Error from Connection.connect when nothing answers within connectTimeout.
  if (!(error instanceof Error) || !/Failed to connect before the deadline/.test(error.message)) return null;
  const where = address ? ` at ${address}` : '';
  return new CliError(`cannot reach Temporal${where}: is \`npm run dev\` running? Otherwise set TEMPORAL_ADDRESS.`);
}

/** `mongodb://user:secret@host/db` → `mongodb://***@host/db`: a message must not carry a password. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}

/** The `code` of an error or of the error it wraps (`fetch failed` wraps ECONNREFUSED). */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]!.replace(/[.:]\s*$/, '');
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
