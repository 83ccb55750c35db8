// The set-based assignment write (assignBatch) and the scheduler's immediate, coalesced ticks.
import { describe, expect, it } from 'vitest';
import { assignBatch } from '../src/store/assignments.js';
import { rowToTask, type TaskRow } from '../src/core/task.js';
import { getVersionedTaskRow, type VersionedRow } from '../src/store/tasks.js';
import { agentRowsAndCounts, setDrained } from '../src/store/agents.js';
import { createTestDatabase } from './helpers/db.js';
import { assignItem, insertTask } from './helpers/factories.js';
import { startApp } from './helpers/app.js';
import { schedulerOf } from './fakes/swarm.js';
import type { TickResult } from '../src/assignment/scheduler.js';
import { quiesce } from './helpers/wait.js';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const spec = (now = at(1000)) => ({ now, maxConcurrent: 2 });

describe('assignBatch', () => {
  it('writes a whole batch in one transaction: limit, drain, lost CAS, events, last_assigned_at', async () => {
    await using db = {
      ...(await createTestDatabase()),
      async [Symbol.asyncDispose]() {
        await this.sql.end();
        await this.drop();
      },
    };
    const sql = db.sql;
    await insertTask(sql, { status: 'running', assignee: 'a' }); // a already holds one: one slot left
    await setDrained(sql, 'd', true, at(0));
    const t: TaskRow[] = [];
    for (let i = 0; i < 6; i++) t.push(await insertTask(sql, { created_at: at(i) }));
    for (let i = 6; i < 8; i++) t.push(await insertTask(sql, { created_at: at(i) }));
    const read = await Promise.all(t.map(async (x) => (await getVersionedTaskRow(sql, x.id))!));
    // After the scheduler read them: t5 is cancelled, t6 changes while staying pending (its
    // event would describe a stale row), t7 is held by another transaction.
    await sql`update tasks set status = 'cancelled', completed_at = ${at(1)} where id = ${t[5]!.id}`;
    await sql`update tasks set priority = 9 where id = ${t[6]!.id}`;
    const item = (k: number, agent: string, score = 1, woke = false) => assignItem(read[k]!, agent, at(1000), { score, woke });
    let out: Awaited<ReturnType<typeof assignBatch>> = [];
    await sql.begin(async (other) => {
      await other`select 1 from tasks where id = ${t[7]!.id} for update`;
      out = await assignBatch(
        sql,
        [
          item(0, 'a'),
          item(1, 'a'), // a is full now
          item(2, 'b', 0.8, true),
          item(3, 'd'), // drained
          item(4, 'b'),
          item(5, 'c'), // no longer pending
          item(4, 'c'), // duplicate decision: ignored
          item(6, 'c'), // changed since read
          item(7, 'e'), // locked elsewhere: skipped, not waited for
        ],
        spec(),
      );
    });
    expect(out.map((o) => [o.agent, o.ok ? 'ok' : o.reason])).toEqual([
      ['a', 'ok'],
      ['a', 'at_limit'],
      ['b', 'ok'],
      ['d', 'drained'],
      ['b', 'ok'],
      ['c', 'lost'],
      ['c', 'lost'],
      ['e', 'lost'],
    ]);
    const rows = await sql<{ id: string; status: string; assignee: string | null; attempt: number; wake_deadline_at: Date | null }[]>`
      select id, status, assignee, attempt, wake_deadline_at from tasks where id = any(${sql.array(t.map((x) => x.id))}::uuid[])`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(t[0]!.id)).toMatchObject({ status: 'assigned', assignee: 'a', attempt: 1 });
    expect(byId.get(t[0]!.id)!.wake_deadline_at!.getTime()).toBe(at(61_000).getTime());
    expect(byId.get(t[1]!.id)).toMatchObject({ status: 'pending', assignee: null });
    expect(byId.get(t[3]!.id)).toMatchObject({ status: 'pending' });
    expect(byId.get(t[5]!.id)).toMatchObject({ status: 'cancelled' });
    const events = await sql<{ task_id: string; envelope: { data: Record<string, unknown> } }[]>`
      select task_id, dispatch_task_envelope(task_events) as envelope from task_events where type = 'assigned' order by seq`;
    expect(events.map((e) => [e.task_id, e.envelope.data.agent, e.envelope.data.woke])).toEqual([
      [t[0]!.id, 'a', false],
      [t[2]!.id, 'b', true],
      [t[4]!.id, 'b', false],
    ]);
    // Each event carries the task exactly as stored, and so does the outcome's row.
    for (const e of events) {
      const [stored] = await sql<TaskRow[]>`select * from tasks where id = ${e.task_id}`;
      expect(e.envelope.data.task).toEqual(JSON.parse(JSON.stringify(rowToTask(stored!))));
      const o = out.find((x) => x.taskId === e.task_id)!;
      expect(o.ok && rowToTask(o.row)).toEqual(rowToTask(stored!));
    }
    const agents = await sql<{ id: string; last_assigned_at: Date | null }[]>`select id, last_assigned_at from agents order by id`;
    expect(agents.map((a) => [a.id, a.last_assigned_at?.getTime() ?? null])).toEqual([
      ['a', at(1000).getTime()],
      ['b', at(1000).getTime()],
      ['c', null],
      ['d', null],
      ['e', null],
    ]);
  });

  it('concurrent batches for the same agents never exceed the limit', async () => {
    await using db = {
      ...(await createTestDatabase()),
      async [Symbol.asyncDispose]() {
        await this.sql.end();
        await this.drop();
      },
    };
    const sql = db.sql;
    const tasks: VersionedRow[] = [];
    for (let i = 0; i < 40; i++) tasks.push((await getVersionedTaskRow(sql, (await insertTask(sql, { created_at: at(i) })).id))!);
    // Four "replicas" each try to give every task to agents x/y/z, in different orders.
    const agents = ['x', 'y', 'z'];
    const runs = [0, 1, 2, 3].map((k) => {
      const order = k % 2 ? [...tasks].reverse() : tasks;
      return assignBatch(
        sql,
        order.map((t, i) => assignItem(t, agents[(i + k) % 3]!, at(1000))),
        spec(),
      );
    });
    const results = (await Promise.all(runs)).flat();
    const active = await sql<{ assignee: string; n: number }[]>`
      select assignee, count(*)::int as n from tasks where status in ('assigned','running') group by assignee order by assignee`;
    expect(active.map((r) => [r.assignee, r.n])).toEqual([
      ['x', 2],
      ['y', 2],
      ['z', 2],
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(6);
    const [ev] = await sql<{ n: number }[]>`select count(*)::int as n from task_events where type = 'assigned'`;
    expect(ev!.n).toBe(6);
  });
});

describe('agentRowsAndCounts', () => {
  it('reads agent rows and active counts in one statement, agents without a row included in the counts', async () => {
    await using db = {
      ...(await createTestDatabase()),
      async [Symbol.asyncDispose]() {
        await this.sql.end();
        await this.drop();
      },
    };
    const sql = db.sql;
    await setDrained(sql, 'drained-idle', true, at(0));
    await sql`insert into agents (id, last_assigned_at) values ('busy', ${at(5)})`;
    await insertTask(sql, { status: 'assigned', assignee: 'busy' });
    await insertTask(sql, { status: 'running', assignee: 'busy' });
    await insertTask(sql, { status: 'running', assignee: 'rowless' });
    await insertTask(sql, { status: 'pending' });
    const { rows, counts } = await agentRowsAndCounts(sql);
    expect(rows.map((r) => [r.id, r.drained, r.last_assigned_at?.getTime() ?? null])).toEqual([
      ['busy', false, at(5).getTime()],
      ['drained-idle', true, null],
    ]);
    expect([...counts].sort()).toEqual([
      ['busy', 2],
      ['rowless', 1],
    ]);
  });
});

/**
 * Dispatch with one roster agent `w1` (capability x) and a timer tick 10 minutes away, so only
 * pokes start ticks; `ticks()` counts the ticks run so far.
 */
async function pokedApp(maxConcurrent: number) {
  const t = await startApp({
    config: {
      assignment: { tick_interval_ms: 600_000, max_concurrent_per_agent: maxConcurrent },
      agents: [{ id: 'w1', name: 'w1', capabilities: ['x'], state: 'ready' }] as never,
    },
  });
  const s = schedulerOf(t);
  let n = 0;
  // Every tick the loop runs (pokes, the timer): the loop shell emits each run's result.
  s.loop.on('run', () => void n++);
  // The start-up tick (and the one after LISTEN is in place) are not what the tests count.
  await quiesce(t);
  return { t, s, ticks: () => n };
}

describe('scheduler ticks', () => {
  it('a task created via POST is assigned at once — by its own create (sync match) or a tick it pokes, no timer — and bursts coalesce', async () => {
    const { t, s, ticks } = await pokedApp(50);
    await using _app = t;
    const before = ticks();
    let tickAssigned = 0;
    s.loop.on('run', (r: TickResult) => void (tickAssigned += r.assigned.length));
    const created = await Promise.all(Array.from({ length: 20 }, (_, i) => t.call('POST', '/api/v1/tasks', { body: { title: `t${i}`, capabilities: ['x'] } })));
    expect(created.every((c) => c.status === 201)).toBe(true);
    // The agent has free slots and nothing older waits: creates answer already assigned (§17).
    const atCreate = created.filter((c) => c.body.status === 'assigned').length;
    expect(atCreate).toBeGreaterThan(0);
    expect(created.every((c) => c.body.status === 'assigned' || c.body.status === 'pending')).toBe(true);
    if (tickAssigned < 20 - atCreate) await s.loop.nextRun(() => tickAssigned >= 20 - atCreate);
    const [row] = await t.sql<{ n: number }[]>`select count(*)::int as n from tasks where status = 'assigned'`;
    expect(row!.n).toBe(20);
    // 20 creates (each a signal and a NOTIFY) fold into far fewer ticks than 40.
    await quiesce(t);
    expect(ticks() - before).toBeLessThan(40);
  });

  it('a freed slot starts a tick while tasks wait, and not when nothing waits', async () => {
    const { t, s, ticks } = await pokedApp(1);
    await using _app = t;
    const status = async (id: string) => (await t.sql<{ status: string }[]>`select status from tasks where id = ${id}`)[0]!.status;
    const create = async (title: string) => (await t.call('POST', '/api/v1/tasks', { body: { title, capabilities: ['x'] } })).body.id as string;
    const complete = async (id: string) => expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'w1', body: {} })).status).toBe(200);

    // a is taken by w1 in its own create (sync match); b waits behind it (limit 1): completing a
    // must hand b the slot at once, with no timer tick.
    const a = await create('a');
    expect(await status(a)).toBe('assigned');
    const sawWait = s.loop.nextRun((r) => r.considered > 0 && r.assigned.length === 0);
    const b = await create('b');
    await sawWait;
    expect(await status(b)).toBe('pending');
    const bAssigned = s.loop.nextRun((r) => r.assigned.some((x) => x.taskId === b));
    await complete(a);
    await bAssigned;

    // Nothing waits now: completing b (a signal and a NOTIFY, both 'freed') starts no tick.
    await quiesce(t);
    const before = ticks();
    await complete(b);
    await quiesce(t);
    expect(ticks()).toBe(before);
  });
});
