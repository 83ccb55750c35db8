// What the JSON schemas cannot say but Postgres needs: no U+0000 and no lone UTF-16 surrogate in
// any string or key (text and jsonb cannot store the one, jsonb refuses the other) and no nesting
// deeper than MAX_JSON_DEPTH (jsonb and the serializers recurse). Pure: the API checks every body
// with it before schema validation (http/body-guard.ts), the webhook intake its payloads
// (services/hooks.ts). Found by test/fuzz.test.ts.

/** Deepest accepted nesting of objects/arrays in a body (the root object is level 1). */
export const MAX_JSON_DEPTH = 64;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function stringProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (LONE_SURROGATE.test(s)) return 'must be well-formed Unicode (no lone surrogate)';
  return undefined;
}

export interface BodyProblem {
  field: string;
  message: string;
}

/** The first problem in a parsed JSON value, found without recursion (deep input is the point). */
export function findBodyProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): BodyProblem | undefined {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 0, path: '' }];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      const bad = stringProblem(v);
      if (bad) return { field: path || 'body', message: bad };
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > maxDepth) return { field: path || 'body', message: `nests deeper than ${maxDepth} levels` };
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((x, k) => [String(k), x]) : Object.entries(v);
    for (const [k, x] of entries) {
      const bad = stringProblem(k);
      if (bad) return { field: path || 'body', message: `keys ${bad}` };
      stack.push({ v: x, depth: depth + 1, path: path ? `${path}.${k}` : k });
    }
  }
  return undefined;
}
