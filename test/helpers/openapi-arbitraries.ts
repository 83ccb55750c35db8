// fast-check arbitraries built from the committed openapi.yaml: for every operation, requests
// whose bodies and query strings follow the published schemas, mutated ones (a field of the
// wrong type, an unknown field, a missing required field, a bound crossed) and hostile strings.
// Used by test/fuzz.test.ts and `npm run fuzz`.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import * as yaml from 'js-yaml';
import { AGENT_ID_SOURCE } from '../../src/core/ids.js';

type Schema = Record<string, any>;

export interface Operation {
  method: string;
  path: string;
  operationId: string;
  admin: boolean;
  body?: Schema;
  query: Array<{ name: string; schema: Schema; required: boolean }>;
  headers: Array<{ name: string; schema: Schema }>;
}

/** The node with every `$ref: '#/components/schemas/X'` replaced by X (siblings such as description kept). */
function deref(node: unknown, schemas: Schema): any {
  if (Array.isArray(node)) return node.map((v) => deref(v, schemas));
  if (typeof node !== 'object' || node === null) return node;
  const { $ref, ...rest } = node as Schema;
  const out: Schema = {};
  if (typeof $ref === 'string') Object.assign(out, deref(schemas[$ref.replace('#/components/schemas/', '')], schemas));
  for (const [k, v] of Object.entries(rest)) out[k] = deref(v, schemas);
  return out;
}

export function loadOperations(file: string): Operation[] {
  const raw = yaml.load(readFileSync(file, 'utf8')) as Schema;
  // Named shapes are $refs into components.schemas (CONTRACT §22): the arbitraries read them inline.
  const doc = { ...raw, paths: deref(raw.paths, raw.components?.schemas ?? {}) } as Schema;
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries<Schema>(doc.paths ?? {})) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete']) {
      const op = item[method] as Schema | undefined;
      if (!op) continue;
      const params = (op.parameters ?? []) as Schema[];
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId ?? `${method} ${path}`,
        admin: JSON.stringify(op.security ?? []).includes('adminToken'),
        body: op.requestBody?.content?.['application/json']?.schema,
        query: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {}, required: !!p.required })),
        headers: params.filter((p) => p.in === 'header').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
      });
    }
  }
  return ops;
}

/** Strings that have broken services before: SQL, NUL, lone surrogates, RTL, emoji, escapes. */
export const HOSTILE_STRINGS = [
  "'; drop table tasks; --",
  "' or '1'='1",
  '1; select pg_sleep(10)',
  '$1',
  '%s%s%s%n',
  '\u0000',
  'nul\u0000inside',
  '\ud800',
  'lone \udfff surrogate',
  '\u202etxt.exe',
  '𝕯𝖎𝖘𝖕𝖆𝖙𝖈𝖍 🚀👩‍👩‍👧‍👦',
  'Z̷̢̛̙a̶l̸g̵o̴',
  '\\u0000',
  '\r\nX-Injected: 1',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  '${jndi:ldap://127.0.0.1/a}',
  '__proto__',
  'constructor',
  ' ',
  '',
  'ǅ',
  '\uFEFF',
];

export const hostileString = fc.constantFrom(...HOSTILE_STRINGS);

const anyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 2, arbitrary: hostileString },
);

const anyJson = fc.jsonValue({ maxDepth: 3 });

function stringFor(s: Schema): fc.Arbitrary<string> {
  if (s.format === 'uuid') return fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: anyString });
  if (s.format === 'date-time') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()) },
      { weight: 1, arbitrary: fc.constantFrom('2024-02-30T00:00:00Z', 'tomorrow', '0000-00-00T00:00:00Z', '9999-12-31T23:59:59.999Z', '2024-01-01') },
    );
  }
  const min = s.minLength ?? 0;
  const max = s.maxLength ?? 64;
  const base = fc.oneof(
    { weight: 6, arbitrary: fc.string({ minLength: Math.min(min, 24), maxLength: Math.min(max, 24) }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: Math.min(min, 8), maxLength: Math.min(max, 8) }) },
    { weight: 2, arbitrary: hostileString },
    // One past the bound: must be refused, never stored.
    { weight: 1, arbitrary: fc.constant('x'.repeat(Math.min(max + 1, 300_000))) },
  );
  if (s.pattern === AGENT_ID_SOURCE) return fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:@-]{1,20}$/), base);
  return base;
}

/** Values that follow `schema` most of the time, with hostile strings and crossed bounds mixed in. */
export function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return anyJson;
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alts = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (alts?.length) return fc.oneof(...alts.map((a) => fromSchema(a, depth + 1)));
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t: string) => fromSchema({ ...schema, type: t }, depth + 1)));
  switch (type) {
    case 'string':
      return stringFor(schema);
    case 'integer':
      return fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1_000_000 }) },
        { weight: 1, arbitrary: fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, -(2 ** 63), (schema.maximum ?? 0) + 1, (schema.minimum ?? 0) - 1, 1.5) },
      );
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9 });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(schema.items, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, Schema>;
      const keys = Object.keys(props);
      if (keys.length === 0) return fc.dictionary(anyString, anyJson, { maxKeys: 4 });
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const k of keys) record[k] = fromSchema(props[k], depth + 1);
      return fc.record(record, { requiredKeys: (schema.required ?? []).filter((k: string) => keys.includes(k)) });
    }
    default:
      return anyJson;
  }
}

/** A body for `schema`: valid-looking, mutated in one place, or anything at all. */
export function bodyFor(schema: Schema | undefined): fc.Arbitrary<unknown> {
  const valid = fromSchema(schema);
  const props = Object.keys((schema?.properties ?? {}) as object);
  const mutated = props.length
    ? fc.tuple(valid, fc.constantFrom(...props), fc.oneof(anyJson, anyString), fc.constantFrom('replace', 'drop', 'unknown')).map(([v, k, x, how]) => {
        const o = { ...(v as Record<string, unknown>) };
        if (how === 'replace') o[k] = x;
        else if (how === 'drop') delete o[k];
        else o[`${k}_${typeof x}`] = x;
        return o;
      })
    : valid;
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: anyJson });
}

/** Query values as strings (what goes over the wire). */
export function queryFor(params: Operation['query']): fc.Arbitrary<Record<string, string>> {
  if (params.length === 0) return fc.constant({});
  const record: Record<string, fc.Arbitrary<string>> = {};
  for (const p of params) {
    record[p.name] = fc.oneof(
      { weight: 3, arbitrary: fromSchema(p.schema).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))) },
      { weight: 1, arbitrary: anyString },
    );
  }
  return fc.record(record, { requiredKeys: [] }) as fc.Arbitrary<Record<string, string>>;
}
