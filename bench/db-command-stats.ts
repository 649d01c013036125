/* eslint-disable @typescript-eslint/no-require-imports -- a preload: patches the driver the process loads */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Preload (`node --require dist/bench/db-command-stats.js …`) that times every MongoDB command the
 * process sends, grouped by command, collection and the shape of its filter (field names, not
 * values), and writes the totals as JSON to `$HOOKFLOW_DB_STATS_DIR/<pid>.json` on SIGWINCH (and
 * resets them; not SIGUSR2: the Temporal runtime shuts a worker down on it). Used by
 * bench/growth-probe.ts to find which operation grows with the store; not loaded by hookflow
 * itself. Times are the driver's round-trip durations, so they include the server's work.
 */
interface Stat {
  count: number;
  totalMs: number;
  maxMs: number;
}
const stats = new Map<string, Stat>();
const started = new Map<number, string>();

function shapeOf(value: unknown): string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return '';
  return Object.keys(value as object)
    .map((key) => {
      const inner = (value as Record<string, unknown>)[key];
      return key.startsWith('$') ||
        (inner && typeof inner === 'object' && !Array.isArray(inner) && !(inner instanceof Date))
        ? `${key}:{${shapeOf(inner)}}`
        : key;
    })
    .join(',');
}

function keyOf(command: Record<string, unknown>, name: string): string {
  const collection = String(command[name]);
  const first = (list: unknown) => (Array.isArray(list) ? (list[0] as Record<string, unknown>) : undefined);
  const filter =
    command.filter ??
    command.query ??
    first(command.updates)?.q ??
    first(command.deletes)?.q ??
    (Array.isArray(command.pipeline) ? command.pipeline.map((stage) => shapeOf(stage)).join('|') : undefined);
  const extra = name === 'find' && command.sort ? ` sort{${shapeOf(command.sort)}}` : '';
  return `${name} ${collection} {${typeof filter === 'string' ? filter : shapeOf(filter)}}${extra}`;
}

const { MongoClient } = require('mongodb');
const connect = MongoClient.prototype.connect;
MongoClient.prototype.connect = function (
  this: { monitorCommands: boolean; on(name: string, listener: (event: never) => void): void },
  ...args: unknown[]
) {
  this.monitorCommands = true;
  this.on('commandStarted', (event: { requestId: number; commandName: string; command: Record<string, unknown> }) => {
    started.set(event.requestId, keyOf(event.command, event.commandName));
  });
  const finished = (event: { requestId: number; duration: number }) => {
    const key = started.get(event.requestId);
    if (!key) return;
    started.delete(event.requestId);
    const stat = stats.get(key) ?? { count: 0, totalMs: 0, maxMs: 0 };
    stat.count++;
    stat.totalMs += event.duration;
    stat.maxMs = Math.max(stat.maxMs, event.duration);
    stats.set(key, stat);
  };
  this.on('commandSucceeded', finished);
  this.on('commandFailed', finished);
  return connect.apply(this, args);
};

process.on('SIGWINCH', () => {
  const dir = process.env.HOOKFLOW_DB_STATS_DIR;
  if (!dir) return;
  writeFileSync(join(dir, `${process.pid}.json`), JSON.stringify(Object.fromEntries(stats), null, 1));
  stats.clear();
});
