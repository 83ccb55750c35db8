// store/statement.ts renders a statement composed from the store's fragments exactly as
// postgres.js builds the same composition: the same text, the same parameters, the same types.
// Compared on the statements the services send this way (a report's write, a create's sync match),
// in the shapes they take: with and without a version, an assignee, callback deliveries, a
// swarm-dlq entry, the track record, a task's earlier unpublished events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAssignment, decideComplete, decideCreate, decideFail, type Change } from '../src/core/decisions.js';
import { requiredTags, type TaskRow } from '../src/core/task.js';
import type { Db } from '../src/store/db.js';
import { eventColumns } from '../src/store/events.js';
import { composer, render, run } from '../src/store/statement.js';
import { matchedCreateStatement, oneWriteStatement } from '../src/store/tasks.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { newTaskInput } from './helpers/factories.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.sql`select 1`; // the connection's array types are fetched before the first array parameter
});
afterAll(() => t.drop());

type Built = { text: string; params: unknown[]; types: number[] };

/** What postgres.js builds for `query` (its `debug` hook), described by Postgres, never run. */
async function built(query: () => { describe(): Promise<unknown> }): Promise<Built> {
  const options = (t.sql as unknown as { options: { debug?: unknown } }).options;
  let got: Built | undefined;
  options.debug = (_c: number, text: string, params: unknown[], types: number[]) => {
    got = { text, params: [...params], types: [...types] };
  };
  try {
    await query().describe();
  } finally {
    delete options.debug;
  }
  return got!;
}

/** The statement as postgres.js composes it, and as composer() renders it and unsafe() sends it. */
async function bothWays(compose: (q: Db) => unknown) {
  const tagged = await built(() => compose(t.sql) as { describe(): Promise<unknown> });
  const { text, params } = render(compose(composer(t.sql)));
  const rendered = await built(() => t.sql.unsafe(text, params as never[], { prepare: true }));
  return { tagged, rendered };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const at = new Date('2026-12-07T12:00:00.000Z');
const later = (s: number) => new Date(at.getTime() + s * 1000);

const taskInput = () =>
  newTaskInput({
    title: 'a task with "quotes" and a \\ backslash',
    requester: 'requester-x',
    scope: 'Research',
    capabilities: ['web'],
    required_tags: requiredTags('Research', ['web']),
    context: { nested: { list: [1, 'two', null] } },
  });

function task(extra: Partial<Parameters<typeof decideCreate>[0]> = {}): TaskRow {
  return decideCreate({ ...taskInput(), ...extra }, at).row;
}

const assigned = (row: TaskRow) => decideAssignment(row, { agent: 'agent-a', score: 1.25, woke: false }, later(1), 30_000).next;
const keysOf = (c: Change) => (Object.keys(c.next) as (keyof TaskRow)[]).filter((k) => k !== 'id' && String(c.next[k]) !== String(c.before[k]));

describe('composer', () => {
  const shapes: [string, () => { c: Change & { version?: string }; withBefore: boolean }][] = [
    [
      'a completion with its version, the track record and earlier events',
      () => ({ c: { ...decideComplete(assigned(task()), 'agent-a', { answer: 42 }, later(2)), version: '1234' }, withBefore: true }),
    ],
    [
      'a completion with a callback delivery, no version, no earlier events',
      () => ({
        c: decideComplete(assigned(task({ callback_url: 'https://hooks.example/cb', callback_events: ['completed'] })), 'agent-a', null, later(2)),
        withBefore: false,
      }),
    ],
    [
      'a final failure (a swarm-dlq entry)',
      () => ({
        c: decideFail(assigned(task()), 'agent-a', { error: 'broken', retryable: false }, { baseMs: 1000, maxMs: 5000 }, () => 0.5, later(2)),
        withBefore: true,
      }),
    ],
    [
      'an assignment (no assignee guard, no outcome)',
      () => ({ c: decideAssignment(task(), { agent: 'agent-b', score: 1, woke: true }, later(1), 30_000), withBefore: false }),
    ],
  ];

  it.each(shapes)('renders a report’s write as postgres.js builds it: %s', async (_name, shape) => {
    const { c, withBefore } = shape();
    const cols = eventColumns(c.events, later(2));
    const { tagged, rendered } = await bothWays((q) => oneWriteStatement(q, c, keysOf(c), later(2), cols, withBefore));
    // A swarm-dlq entry's id is drawn anew by each composition (store/events.ts dlqRows): ids the
    // statement does not share with the task and its events are compared as "a fresh id".
    const known = new Set([c.next.id, ...cols.ids]);
    const fresh = (b: Built) => ({
      ...b,
      params: b.params.map((p) => (Array.isArray(p) ? p.map((x) => (UUID.test(String(x)) && !known.has(String(x)) ? 'fresh id' : x)) : p)),
    });
    expect(fresh(rendered)).toEqual(fresh(tagged));
    expect(tagged.params.length).toBeGreaterThan(5);
  });

  it.each<[string, { callback_url?: string; callback_events?: string[] }]>([
    ['without callbacks', {}],
    ['with a callback delivery', { callback_url: 'https://hooks.example/cb', callback_events: ['assigned', 'completed'] }],
  ])('renders a create’s sync match as postgres.js builds it: %s', async (_name, extra) => {
    const created = decideCreate({ ...taskInput(), ...extra }, at);
    const match = decideAssignment(created.row, { agent: 'agent-a', score: 1, woke: false }, at, 30_000);
    const m = {
      pending: created,
      assigned: { row: match.next, events: [...created.events, ...match.events] },
      agentTags: ['research', 'web'],
      maxConcurrent: 3,
    };
    const cols = eventColumns([...m.pending.events, ...m.assigned.events], at);
    const { tagged, rendered } = await bothWays((q) => matchedCreateStatement(q, m, cols, at));
    expect(rendered).toEqual(tagged);
    expect(tagged.text).toContain(extra.callback_url ? 'insert into deliveries' : 'select * from dispatch_create_matched_diff(');
  });

  it('renders nested fragments, a list of fragments and empty ones as postgres.js does, and run() sends them', async () => {
    type Tag = (s: TemplateStringsArray, ...a: unknown[]) => unknown;
    const compose = (db: Db) => {
      const q = db as unknown as Tag;
      const more = [q`union all select ${2}::int`, q`union all select (${db.array([3, 4])}::int[])[${1}]`];
      return q`select n from (select ${1}::int as n ${more} ${q``}) x where n <> ${q`${0}`} order by n`;
    };
    const { tagged, rendered } = await bothWays(compose);
    expect(rendered).toEqual(tagged);
    expect(rendered.text).toBe('select n from (select $1::int as n  union all select $2::int union all select ($3::int[])[$4] ) x where n <> $5 order by n');
    expect(await run<{ n: number }>(t.sql, compose(composer(t.sql)))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
  });

  it('refuses what it cannot compose, and a column name that is not one', () => {
    const q = composer(t.sql) as unknown as (...a: unknown[]) => unknown;
    expect(() => q({ status: 'x' })).toThrow(/compose/);
    expect(() => render(q({ 'status" = 1; --': 'x' }, ['status" = 1; --']))).toThrow(/render: not a statement/);
    const bad = (composer(t.sql) as unknown as (s: TemplateStringsArray, ...a: unknown[]) => unknown)`update tasks set ${q({ 'a"b': 1 }, ['a"b'])}`;
    expect(() => render(bad)).toThrow(/not a column name/);
    expect(() => render(t.sql`select 1`)).toThrow(/not a statement composed with composer/);
    const mixed = (composer(t.sql) as unknown as (s: TemplateStringsArray, ...a: unknown[]) => unknown)`select * from tasks where ${t.sql`true`}`;
    expect(() => render(mixed)).toThrow(/fragment inside a composed statement/);
  });
});
