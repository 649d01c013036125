/** A `--since` / `{since}` value that is neither a duration nor a date. */
export class InvalidSince extends Error {
  override readonly name = 'InvalidSince';
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `2h`, `30m`, `7d`, `90s` (that long before `now`) or an ISO 8601 date (`2026-11-27T01:00:00Z`).
 * A time in the future is refused: "recover since tomorrow" is a typo, not an empty request.
 */
export function parseSince(value: string, now = new Date()): Date {
  const text = value.trim();
  const duration = /^(\d{1,6})([smhd])$/.exec(text);
  const at = duration
    ? new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!)
    : /^\d{4}-\d{2}-\d{2}/.test(text)
      ? new Date(text)
      : null;
  if (!at || Number.isNaN(at.getTime())) {
    throw new InvalidSince(`since must be a duration such as 2h, 30m or 7d, or an ISO date; got "${value}"`);
  }
  if (at.getTime() > now.getTime()) throw new InvalidSince(`since ${at.toISOString()} is in the future`);
  return at;
}
