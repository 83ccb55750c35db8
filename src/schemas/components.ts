// Named shapes in openapi.yaml (CONTRACT §22). A shared TypeBox schema wrapped in named('Task', …)
// carries an `x-component` annotation; liftComponents() — @fastify/swagger's transformObject, so
// GET /openapi.yaml and `npm run openapi` agree — moves every subtree carrying it into
// components.schemas once and leaves a $ref where it was. The annotation is not a validation
// keyword: Ajv (strict: false) and the response serializer ignore it, so validation is unchanged.
import type { TSchema } from '@sinclair/typebox';
import { isDeepStrictEqual } from 'node:util';

export const COMPONENT_KEY = 'x-component';

interface ComponentMark {
  name: string;
  /** The schema's own description (a route may spread it with another, e.g. a response's). */
  description?: string;
}

/** The schema, named: openapi.yaml shows it once as components.schemas[name] and $refs it. */
export function named<T extends TSchema>(name: string, schema: T): T {
  const mark: ComponentMark = { name, ...(typeof schema.description === 'string' ? { description: schema.description } : {}) };
  return { ...schema, [COMPONENT_KEY]: mark };
}

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (v: Json): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The document with every named subtree replaced by `{$ref}` (plus `description` where the
 * occurrence's differs from the shape's own) and defined once in components.schemas, sorted by
 * name. Two different shapes under one name are a programming error: it throws, naming it.
 */
export function liftComponents<T extends object>(doc: T): T {
  const shapes = new Map<string, JsonObject>();

  const visit = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(visit);
    if (!isObject(node)) return node;
    const copy: JsonObject = {};
    for (const [k, v] of Object.entries(node)) copy[k] = k === COMPONENT_KEY ? v : visit(v);
    const mark = copy[COMPONENT_KEY] as ComponentMark | undefined;
    if (!isObject(mark) || typeof mark.name !== 'string') return copy;
    const { [COMPONENT_KEY]: _mark, description, ...shape } = copy;
    const seen = shapes.get(mark.name);
    if (!seen) shapes.set(mark.name, shape);
    else if (!isDeepStrictEqual(seen, shape)) throw new Error(`openapi: two different shapes are named ${mark.name}`);
    const ref: JsonObject = { $ref: `#/components/schemas/${mark.name}` };
    if (description !== undefined && description !== mark.description) ref.description = description;
    return ref;
  };

  const src = doc as JsonObject;
  const paths = visit(dropResponseSchemaDescriptions(src.paths));
  const components = isObject(src.components) ? src.components : {};
  const schemas: JsonObject = { ...(isObject(components.schemas) ? components.schemas : {}) };
  // Each shape with its own description; a name used only with others' descriptions has none.
  const marks = collectMarks(src.paths);
  for (const name of [...shapes.keys()].sort()) {
    const description = marks.get(name);
    schemas[name] = { ...(description !== undefined ? { description } : {}), ...shapes.get(name)! };
  }
  return { ...src, components: { ...components, schemas }, paths } as T;
}

function collectMarks(node: Json, out = new Map<string, string | undefined>()): Map<string, string | undefined> {
  if (Array.isArray(node)) for (const v of node) collectMarks(v, out);
  else if (isObject(node)) {
    const mark = node[COMPONENT_KEY];
    if (isObject(mark) && typeof mark.name === 'string') out.set(mark.name, mark.description as string | undefined);
    for (const [k, v] of Object.entries(node)) if (k !== COMPONENT_KEY) collectMarks(v, out);
  }
  return out;
}

/**
 * A response's content schema repeats the response's description (the route spreads it into the
 * schema): drop the copy from named schemas, where it would only sit beside the $ref.
 */
function dropResponseSchemaDescriptions(paths: Json): Json {
  if (!isObject(paths)) return paths;
  const out: JsonObject = {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) {
      out[path] = item;
      continue;
    }
    const ops: JsonObject = {};
    for (const [method, op] of Object.entries(item)) {
      if (!isObject(op) || !isObject(op.responses)) {
        ops[method] = op;
        continue;
      }
      const responses: JsonObject = {};
      for (const [status, res] of Object.entries(op.responses)) {
        responses[status] = isObject(res) && isObject(res.content) ? { ...res, content: mapContent(res.content, res.description) } : res;
      }
      ops[method] = { ...op, responses };
    }
    out[path] = ops;
  }
  return out;
}

function mapContent(content: JsonObject, description: Json): JsonObject {
  const out: JsonObject = {};
  for (const [type, media] of Object.entries(content)) {
    if (isObject(media) && isObject(media.schema) && COMPONENT_KEY in media.schema && media.schema.description === description) {
      const { description: _d, ...schema } = media.schema;
      out[type] = { ...media, schema };
    } else out[type] = media;
  }
  return out;
}
