// Group commit of worker reports (services/group-commit.ts): a write goes out alone when nothing is
// in flight; the writes that arrive meanwhile share the next statement, each with its own guard,
// version and events, and a lost compare-and-set is answered for that write alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { decideComplete, decideCreate, decideProgress } from '../src/core/decisions.js';
import { CreateWrites, ReportWrites, RowReads } from '../src/services/group-commit.js';
import { committedEvents, type CommittedEvents } from '../src/store/events.js';
import { getTaskRow, getVersionedTaskRow, unversioned, type Write } from '../src/store/tasks.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertTask } from './helpers/factories.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function completion(id: string, agent: string, result: unknown, now: Date): Promise<Write> {
  const read = (await getVersionedTaskRow(db.sql, id))!;
  return { ...decideComplete(unversioned(read), agent, result, now), version: read.version };
}

const types = async (id: string) => (await db.sql<{ type: string }[]>`select type from task_events where task_id = ${id} order by seq`).map((r) => r.type);

describe('report writes, grouped while one is in flight', () => {
  it('the first write goes alone; the ones that arrive meanwhile share ONE statement, each with its events and version', async () => {
    const tasks = await Promise.all(Array.from({ length: 10 }, (_, i) => insertTask(db.sql, { status: 'running', assignee: `w${i}` })));
    const now = new Date();
    const writes = await Promise.all(tasks.map((t, i) => completion(t.id, `w${i}`, { n: i }, now)));
    const w = new ReportWrites(db.sql);
    const sinks: CommittedEvents[] = writes.map(() => committedEvents());
    const versions = await Promise.all(writes.map((x, i) => w.write(x, sinks[i]!)));
    expect(w.stats).toEqual({ statements: 2, writes: 10 });
    for (const [i, t] of tasks.entries()) {
      const row = (await getVersionedTaskRow(db.sql, t.id))!;
      expect(row).toMatchObject({ status: 'completed', result: { n: i } });
      expect(versions[i]).toBe(row.version);
      expect(await types(t.id)).toEqual(['created', 'completed']);
      expect(sinks[i]!.rows.map((r) => [r.taskId, r.type])).toEqual([[t.id, 'completed']]);
      // The created event (unpublished: no relay here) came before it.
      expect(sinks[i]!.before.get(t.id)).toHaveLength(1);
    }
  });

  it('a write whose row changed since it was read loses alone: the others in its statement are written', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => insertTask(db.sql, { status: 'running', assignee: 'w' })));
    const now = new Date();
    const first = await completion(a!.id, 'w', null, now);
    const stale = await completion(b!.id, 'w', null, now);
    const third = await completion(c!.id, 'w', null, now);
    // b changes after it was read (another replica's report).
    await db.sql`update tasks set progress = '{"message":"elsewhere"}'::jsonb where id = ${b!.id}`;
    const w = new ReportWrites(db.sql);
    const results = await Promise.all([first, stale, third].map((x) => w.write(x, committedEvents())));
    expect(w.stats.statements).toBe(2);
    expect(results[0]).toBeDefined();
    expect(results[1]).toBeUndefined();
    expect(results[2]).toBeDefined();
    expect((await getVersionedTaskRow(db.sql, b!.id))!.status).toBe('running');
    expect(await types(b!.id)).toEqual(['created']);
    expect((await getVersionedTaskRow(db.sql, c!.id))!.status).toBe('completed');
  });

  it('two reports of one task never share a statement: the second waits for the next and sees the first', async () => {
    const t = await insertTask(db.sql, { status: 'running', assignee: 'w' });
    const other = await insertTask(db.sql, { status: 'running', assignee: 'w' });
    const now = new Date();
    const read = (await getVersionedTaskRow(db.sql, t.id))!;
    const progress: Write = { ...decideProgress(unversioned(read), 'w', { message: 'half' }, now), version: read.version };
    const done: Write = { ...decideComplete(unversioned(read), 'w', null, now), version: read.version };
    const w = new ReportWrites(db.sql);
    const [p0, p1, p2] = await Promise.all([
      w.write(await completion(other.id, 'w', null, now), committedEvents()),
      w.write(progress, committedEvents()),
      w.write(done, committedEvents()),
    ]);
    expect(p0).toBeDefined();
    expect(p1).toBeDefined();
    expect(p2).toBeUndefined(); // decided on the row before the progress: its version is gone
    expect(w.stats).toEqual({ statements: 3, writes: 3 });
    expect(await types(t.id)).toEqual(['created', 'progress']);
  });
});

describe('creates, grouped while one is in flight', () => {
  it('the first insert goes alone; the ones that arrive meanwhile share ONE statement, rows and events as decided, each in its own sink', async () => {
    const w = new CreateWrites(db.sql);
    const base = Date.now();
    const decided = Array.from({ length: 8 }, (_, i) =>
      decideCreate(
        {
          id: randomUUID(),
          requester: 'r',
          title: `t${i}`,
          description: null,
          owner: null,
          scope: 'x',
          capabilities: [],
          required_tags: ['x'],
          priority: i,
          context: { i },
          timeout_ms: 60_000,
          max_retries: 1,
          parent_id: null,
          not_before: null,
          depends_on: [],
          workflow_run_id: null,
          step_id: null,
        },
        new Date(base + i),
      ),
    );
    const sinks = decided.map(() => committedEvents());
    const rows = await Promise.all(decided.map((d, i) => w.insert(d.row, d.events, new Date(base + i), sinks[i]!)));
    expect(w.stats).toEqual({ statements: 2, writes: 8 });
    for (const [i, d] of decided.entries()) {
      expect(rows[i]).toMatchObject({ id: d.row.id, title: `t${i}`, status: 'pending', priority: i, context: { i } });
      const [ev] = await db.sql<{ type: string; created_at: Date }[]>`select type, created_at from task_events where task_id = ${d.row.id}`;
      expect(ev).toMatchObject({ type: 'created' });
      expect(ev!.created_at.getTime()).toBe(base + i);
      expect(sinks[i]!.rows.map((r) => r.taskId)).toEqual([d.row.id]);
    }
  });
});

describe('row reads, grouped while one is in flight', () => {
  it('the first read goes alone; the ones that arrive meanwhile share ONE statement, each answered with its own row', async () => {
    const tasks = await Promise.all(Array.from({ length: 6 }, (_, i) => insertTask(db.sql, { status: 'running', assignee: `r${i}` })));
    const missing = randomUUID();
    const ids = [...tasks.map((t) => t.id), missing, tasks[2]!.id];
    const r = new RowReads(db.sql);
    const rows = await Promise.all(ids.map((id) => r.read(id)));
    expect(r.stats).toEqual({ statements: 2, writes: 8 });
    for (const [i, id] of ids.entries()) expect(rows[i], id).toEqual(id === missing ? undefined : await getTaskRow(db.sql, id));
  });

  it('a read the batch cannot take (not a uuid) fails alone: the others are answered', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => insertTask(db.sql, { status: 'running', assignee: 'r' })));
    const r = new RowReads(db.sql);
    const first = r.read(a!.id);
    const [bad, good] = await Promise.allSettled([r.read('not-a-uuid'), r.read(b!.id)]);
    expect((await first)?.id).toBe(a!.id);
    expect(bad.status).toBe('rejected');
    expect(good).toMatchObject({ status: 'fulfilled', value: { id: b!.id } });
  });
});
