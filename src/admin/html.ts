/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is already `Html`
 * (built the same way). No payload, error message or id from the database can become markup.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | boolean | null | undefined | Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new Html(out);
}

/** A query string from defined, non-empty values (already URL-encoded; escape when placed in HTML). */
export function queryString(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && String(value).length > 0) search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** `2026-11-27 03:12:45 UTC`: one unambiguous zone for everyone on a support rota. */
export function formatTime(value: Date | string | null | undefined): string {
  if (!value) return '—';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '—';
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Chip colours by meaning, not by status name: green done, red needs attention, amber in progress. */
const CHIP_TONE: Record<string, string> = {
  processed: 'ok',
  delivered: 'ok',
  enabled: 'ok',
  completed: 'ok',
  resolved: 'ok',
  won: 'ok',
  failed: 'bad',
  lost: 'bad',
  disabled: 'bad',
  start_failed: 'bad',
  skipped: 'muted',
  cancelled: 'muted',
  received: 'wait',
  processing: 'wait',
  pending: 'wait',
  delivering: 'wait',
  running: 'wait',
  open: 'wait',
  started: 'wait',
};

export function chip(status: string | null | undefined): Html {
  const text = status ?? 'unknown';
  return html`<span class="chip chip-${CHIP_TONE[text] ?? 'muted'}">${text}</span>`;
}
