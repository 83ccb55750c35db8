// Agent ids (PromptForge persona slug = Warren agent name = Alexandria device name): the one
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
