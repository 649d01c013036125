import { CliError } from './cli-errors';

const UNIT_SECONDS: Record<string, number> = { m: 60, h: 3600, d: 86_400 };

/**
 * `--since` as Unix seconds: a duration back from now (`90m`, `1h`, `7d`) or a date / date-time
 * (`2026-11-01`, `2026-11-01T12:00:00Z`).
 */
export function parseSince(value: string, flag = '--since', now: number = Date.now()): number {
  const duration = /^(\d+)([mhd])$/.exec(value.trim());
  if (duration) return Math.floor(now / 1000) - Number(duration[1]) * UNIT_SECONDS[duration[2]!]!;
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new CliError(
      `${flag} '${value}' is neither a duration (30m, 1h, 7d) nor a date (2026-11-01 or an ISO date-time).`,
    );
  }
  if (at > now) throw new CliError(`${flag} '${value}' is in the future.`);
  return Math.floor(at / 1000);
}
