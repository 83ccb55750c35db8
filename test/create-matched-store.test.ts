// A create with a sync match sends its task once (dispatch_create_matched_diff, migration 0069):
// the row as matched, and for the unmatched outcome only the columns where it differs. Whichever
// outcome the database decides, the row it stores is, column by column, the one core/ decided.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAssignment, decideCreate } from '../src/core/decisions.js';
import type { TaskRow } from '../src/core/task.js';
import { eventColumns, jsonTextArray } from '../src/store/events.js';
import { getTaskRow, insertTaskMatched, pendingDiff, SYNC_MATCH_HEAD, type MatchedCreate } from '../src/store/tasks.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { newTaskInput } from './helpers/factories.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await t.sql`select 1`; // the connection's array types are fetched before the first array parameter (store/statement.ts run)
});
afterAll(() => t.drop());

const at = new Date('2026-12-07T12:00:00.000Z');

function matched(agent: string, input: Record<string, unknown> = {}): MatchedCreate {
  const created = decideCreate(newTaskInput({ title: 'diff', ...input }), at);
  const match = decideAssignment(created.row, { agent, score: 1, woke: false }, at, 30_000);
  return { pending: created, assigned: { row: match.next, events: [...created.events, ...match.events] }, agentTags: ['research', 'web'], maxConcurrent: 3 };
}

/** A row as the store reads it back, without what only the read adds. */
const stored = async (id: string) => {
  const { version: _v, ...row } = (await getTaskRow(t.sql, id)) as TaskRow & { version?: string };
  return row;
};
const decided = (row: TaskRow) => JSON.parse(JSON.stringify(row)) as unknown;

describe('a create with a sync match', () => {
  it('sends the unmatched row as the columns where it differs: the status and the assignment, nulls included', () => {
    const m = matched('agent-d1');
    const diff = pendingDiff(m.assigned.row, m.pending.row);
    expect(diff).toMatchObject({ status: 'pending', assignee: null, assigned_at: null, attempt: 0 });
    expect(Object.keys(diff)).not.toContain('title');
    expect(Object.keys(diff)).not.toContain('id');
    // Applied to the matched row, it is the unmatched row.
    expect({ ...(decided(m.assigned.row) as object), ...(decided(diff as unknown as TaskRow) as object) }).toEqual(decided(m.pending.row));
  });

  it('stores the matched row when the agent has a free slot, and the unmatched one, column by column, when it is drained', async () => {
    const free = matched('agent-d2', { context: { n: 1 }, priority: 7 });
    const a = await insertTaskMatched(t.sql, free, at);
    expect(a.outcome).toBe('assigned');
    expect(decided(await stored(free.assigned.row.id))).toEqual(decided(free.assigned.row));

    await t.sql`insert into agents (id, drained, drained_at) values ('agent-d3', true, ${at})`;
    const drained = matched('agent-d3', { context: { n: 2 }, priority: 3 });
    const p = await insertTaskMatched(t.sql, drained, at);
    expect(p.outcome).toBe('drained');
    const row = await stored(drained.pending.row.id);
    expect(row.status).toBe('pending');
    expect(row.assignee).toBeNull();
    expect(decided(row)).toEqual(decided(drained.pending.row));
    const [events] = await t.sql<{ n: number }[]>`select count(*)::int as n from task_events where task_id = ${drained.pending.row.id}`;
    expect(events!.n).toBe(drained.pending.events.length);
  });

  it('the previous call (a replica before migration 0069, both rows whole) stores the same rows through the same body', async () => {
    const old = async (m: MatchedCreate) => {
      const cols = eventColumns([...m.pending.events, ...m.assigned.events], at);
      const [r] = await t.sql<{ outcome: string }[]>`select * from dispatch_create_matched(
        ${t.sql.json(m.assigned.row as never)}::jsonb, ${t.sql.json(m.pending.row as never)}::jsonb,
        ${t.sql.array(cols.ids)}::uuid[], ${t.sql.array(cols.types)}::text[], ${jsonTextArray(t.sql, cols.stored)}, ${m.pending.events.length}::int,
        ${t.sql.array(m.agentTags)}::text[], ${m.maxConcurrent}::int, ${SYNC_MATCH_HEAD}::int, ${at}::timestamptz)`;
      return r!.outcome;
    };
    const free = matched('agent-d4', { context: { n: 3 } });
    expect(await old(free)).toBe('assigned');
    expect(decided(await stored(free.assigned.row.id))).toEqual(decided(free.assigned.row));

    await t.sql`insert into agents (id, drained, drained_at) values ('agent-d5', true, ${at})`;
    const drained = matched('agent-d5', { context: { n: 4 } });
    expect(await old(drained)).toBe('drained');
    expect(decided(await stored(drained.pending.row.id))).toEqual(decided(drained.pending.row));
  });
});
