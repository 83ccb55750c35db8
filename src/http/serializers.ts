// Response serializers: one fast-json-stringify build per distinct response schema (api-server.ts),
// built from the schema with its nullable unions written as fast-json-stringify's own forms.
//
// TypeBox writes a nullable field as `anyOf: [X, { type: 'null' }]`. fast-json-stringify serializes
// an anyOf by running Ajv over the value for each branch (date-time format checks included), so a
// task's ~20 nullable fields cost an Ajv validation each per response: ~150 µs per task answered
// under load (docs/benchmarks.md run 14). `{ ...X, type: [X.type, 'null'] }` (a primitive X) and
// `{ ...X, nullable: true }` (an object or array X) write the same JSON without Ajv. Only the
// serializer sees this form: validation and openapi.yaml keep the schemas as written.
import fastJsonStringify from 'fast-json-stringify';

type Schema = Record<string, unknown>;

const isNull = (s: unknown): boolean => typeof s === 'object' && s !== null && (s as Schema).type === 'null' && Object.keys(s).length === 1;

/** The schema with every `anyOf`/`oneOf` of one typed, union-free schema and `null` rewritten as a nullable type. */
export function nullableUnions<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(nullableUnions) as T;
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) out[k] = nullableUnions(v);
  const alts = (out.anyOf ?? out.oneOf) as unknown[] | undefined;
  if (!Array.isArray(alts) || alts.length !== 2 || (out.anyOf && out.oneOf)) return out as T;
  const nullAt = alts.findIndex(isNull);
  const other = alts[1 - nullAt] as Schema | undefined;
  if (nullAt < 0 || !other || typeof other.type !== 'string' || other.type === 'null' || 'anyOf' in other || 'oneOf' in other) return out as T;
  const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = out;
  const nullable = other.type === 'object' || other.type === 'array' ? { nullable: true } : { type: [other.type, 'null'] };
  return { ...rest, ...other, ...nullable } as T;
}

/** A serializer for a response schema (fastify's default options: no shared schemas, ours are inline). */
export function buildSerializer(schema: unknown): (data: unknown) => string {
  return fastJsonStringify(nullableUnions(schema) as Parameters<typeof fastJsonStringify>[0], {}) as (data: unknown) => string;
}
