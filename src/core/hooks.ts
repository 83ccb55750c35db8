// Signed webhooks in (docs/webhooks.md), the pure parts: reading a signature header, filling a
// template from a payload, and the order in which a delivery is judged. No crypto here: the
// service computes the HMAC and compares it in constant time.
//
// Glossary: a *source* is one configured sender (intake.<source>); a *delivery* is one POST from
// it, identified by its delivery header when the source names one; the *payload* is the JSON
// object of the body; a *template* is the configured task (or workflow context) whose strings
// hold `{{a.b.c}}` placeholders.

/** Source names: the `:source` path segment and the intake key. Lower-case, so the env name is unambiguous. */
export const HOOK_SOURCE_SOURCE = '^[a-z0-9][a-z0-9_-]{0,63}$';
export const HOOK_SOURCE_PATTERN = new RegExp(HOOK_SOURCE_SOURCE);
export const HOOK_SOURCE_RULE = '1-64 chars of a-z 0-9 _ -, starting with a letter or digit';

/** A placeholder: `{{path}}` with optional spaces inside the braces; the path has no spaces or braces. */
const PLACEHOLDER = /\{\{\s*([^{}\s]+)\s*\}\}/g;

/** How long a delivery id is remembered: a replay within this window creates nothing new (GitHub and Stripe redeliver for up to 3 days). */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Delivery ids longer than this are refused (400): they are a key in hook_deliveries. */
export const DELIVERY_ID_MAX = 200;

/**
 * The bytes a signature header claims, from `sha256=<hex>` (prefix case-insensitive, surrounding
 * spaces ignored). Undefined when the header is absent or not of that form (odd length, non-hex):
 * both are a mismatch. The length is not checked here: a wrong length is a mismatch too, decided
 * by the comparison.
 */
export function signatureBytes(header: string | undefined): Uint8Array | undefined {
  if (header === undefined) return undefined;
  const m = /^sha256=([0-9a-fA-F]*)$/i.exec(header.trim());
  if (!m || m[1]!.length === 0 || m[1]!.length % 2 !== 0) return undefined;
  const hex = m[1]!;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The value at a dotted path of the payload: object keys, array indexes (`commits.0.id`). Own
 * properties only (no `__proto__`, `constructor`); anything missing → undefined.
 */
export function valueAt(payload: unknown, path: string): unknown {
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) return undefined;
      cur = cur[Number(part)];
    } else if (cur !== null && typeof cur === 'object') {
      if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** How a value is written into a string: text as is, numbers/booleans as JSON, null/missing as '', objects/arrays as JSON. */
function asText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/**
 * Replace every placeholder in every string of a template (nested objects and arrays, values
 * only, never keys) by `text(path)`. Numbers, booleans and null pass through unchanged.
 */
export function mapPlaceholders<T>(template: T, text: (path: string) => string): T {
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(PLACEHOLDER, (_m, path: string) => text(path));
    if (Array.isArray(v)) return v.map(fill);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(template) as T;
}

/** Fill a template from the payload. No code runs: a placeholder is a path, nothing else. */
export function fillTemplate<T>(template: T, payload: unknown): T {
  return mapPlaceholders(template, (path) => asText(valueAt(payload, path)));
}

/** Every placeholder path in a template (for checking a template at start). */
export function placeholderPaths(template: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const m of v.matchAll(PLACEHOLDER)) out.push(m[1]!);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(template);
  return out;
}

/** What a source accepts (the parts of its configuration the judgement reads). */
export interface HookFilter {
  events?: readonly string[] | undefined;
}

/** An event the source does not list is acknowledged (202) and ignored; no `events` → all accepted. */
export function acceptsEvent(source: HookFilter, eventType: string | undefined): boolean {
  if (!source.events) return true;
  return eventType !== undefined && source.events.includes(eventType);
}
