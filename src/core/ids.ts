// Small pure helpers for values at the edge. Agent ids (PromptForge persona slug = Warren agent name = Alexandria device name): the one
// pattern every edge checks against — X-Agent-ID, route params, the roster, NATS messages.

/** 1–128 characters of A-Za-z0-9._:@- (the pattern's source, for JSON Schema). */
export const AGENT_ID_SOURCE = '^[A-Za-z0-9._:@-]{1,128}$';
export const AGENT_ID_PATTERN = new RegExp(AGENT_ID_SOURCE);
/** How the rule reads in an error message. */
export const AGENT_ID_RULE = '1-128 chars of A-Za-z0-9._:@-';

export function isAgentId(v: unknown): v is string {
  return typeof v === 'string' && AGENT_ID_PATTERN.test(v);
}

/** A plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Canonical JSON (object keys sorted, undefined dropped): equal values give equal text, whatever the key order. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
