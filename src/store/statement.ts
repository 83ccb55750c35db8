// Hot statements composed from the store's fragments without postgres.js's fragment objects
// (issue #23, docs/benchmarks.md run 19). postgres.js makes every `db\`…\`` a Query — a Promise
// subclass with its own resolving functions, origin and state — and builds the text by walking
// them; a completion's write composes ~15 such fragments. composer(db) is a stand-in for `db` that
// the same fragment functions (store/events.ts, store/stats.ts, store/fairness.ts …) take
// unchanged: its template tag makes plain Pieces, and run() renders them exactly as postgres.js's
// own stringify would (the same text, the same parameters in the same order: test/statement.test.ts
// compares the two) and sends the text prepared, as a tagged statement is. One author of each
// fragment's SQL, whichever way it is sent.
import type { Db } from './db.js';

/** A template's strings and the values between them (nested Pieces, parameters, plain values). */
class Piece {
  constructor(
    readonly strings: readonly string[],
    readonly args: readonly unknown[],
  ) {}
}

/** `db(values, keys)` in an update's set list: `"a"=$1,"b"=$2`. */
class SetList {
  constructor(
    readonly values: Readonly<Record<string, unknown>>,
    readonly keys: readonly string[],
  ) {}
}

const COLUMN = /^[a-z_][a-z0-9_]*$/;

interface Rendered {
  text: string;
  params: unknown[];
}

function value(x: unknown, out: Rendered): string {
  if (x instanceof Piece) return piece(x, out);
  if (x instanceof SetList)
    return x.keys
      .map((k) => {
        if (!COLUMN.test(k)) throw new Error(`composer: not a column name: ${k}`);
        return `"${k}"=${value(x.values[k], out)}`;
      })
      .join(',');
  // An array of fragments: each after a space (postgres.js's stringifyValue).
  if (Array.isArray(x) && x[0] instanceof Piece) return x.reduce((acc: string, p: Piece) => acc + ' ' + piece(p, out), '');
  // A postgres.js fragment (a Query, a Promise) is no value: every fragment of a composed statement is composer()'s.
  if (x instanceof Promise) throw new Error('composer: a db`…` fragment inside a composed statement; compose it on composer(db)');
  out.params.push(x);
  return '$' + out.params.length;
}

function piece(p: Piece, out: Rendered): string {
  let text = p.strings[0]!;
  for (let i = 1; i < p.strings.length; i++) text += value(p.args[i - 1], out) + p.strings[i]!;
  return text;
}

/** The text and parameters of a statement composed with composer()'s fragments. */
export function render(statement: unknown): Rendered {
  if (!(statement instanceof Piece)) throw new Error('render: not a statement composed with composer()');
  const out: Rendered = { text: '', params: [] };
  out.text = piece(statement, out);
  return out;
}

/**
 * A stand-in for `db` in composing one statement: `q\`…\`` makes a fragment, `q.array`, `q.json`
 * and `q.typed` are db's own parameters, and `q(values, keys)` is an update's set list (the one
 * non-template call the composed statements make). Typed as Db, so the store's fragment functions
 * take it as they take `db`; it can only compose — run() sends what it made.
 */
export function composer(db: Db): Db {
  const q = (first: TemplateStringsArray | Readonly<Record<string, unknown>>, ...rest: unknown[]) => {
    if (Array.isArray((first as TemplateStringsArray).raw)) return new Piece(first as TemplateStringsArray, rest);
    if (!Array.isArray(rest[0])) throw new Error('composer: only db`…` and db(values, keys) compose');
    return new SetList(first as Readonly<Record<string, unknown>>, rest[0] as string[]);
  };
  return Object.assign(q, { array: db.array, json: db.json, typed: db.typed }) as unknown as Db;
}

/** Send a statement composed with composer(db)'s fragments on `db`: rendered here, prepared there. */
export function run<T extends object>(db: Db, statement: unknown): Promise<T[]> {
  const { text, params } = render(statement);
  return db.unsafe(text, params as never[], { prepare: true }) as unknown as Promise<T[]>;
}
