// How events are stored (migrations/0017, docs/events.md "How events are stored"): a row keeps only
// what its envelope cannot get elsewhere, and dispatch_task_envelope rebuilds the rest from the row
// and its task. Here every envelope as the writer built it (what the fast path publishes) must equal
// the one rebuilt from storage, over a lifecycle that sets every Task field — and the rows must be smaller.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type TestApp } from './helpers/app.js';
import { newTaskInput } from './helpers/factories.js';
import { decideAssignment, decideComplete, decideCreate, decideFail, decidePatch, decideProgress, type Change } from '../src/core/decisions.js';
import { requiredTags, type TaskRow } from '../src/core/task.js';
import { committedEvents, eventsOfTask, type CommittedEvents } from '../src/store/events.js';
import { applyChanges, getTaskRow, insertTaskRows } from '../src/store/tasks.js';

let t: TestApp;
beforeAll(async () => {
  t = await startApp();
  // Rows made here are not offered to anyone: keep the relay from racing the reads, and the
  // scheduler's sweeps from timing the hand-made attempts out.
  for (const name of ['event-relay', 'scheduler']) await t.dispatch.components.find((c) => c.name === name)!.stop();
});
afterAll(async () => t?.stop());

// A day ahead of the wall clock, to the millisecond (as JavaScript dates are): no deadline passes meanwhile.
const base = Math.floor(Date.now() / 1000) * 1000 + 86_400_000 + 123;
const at = (s: number) => new Date(base + s * 1000);
const noRandom = () => 0.5;

async function apply(sink: CommittedEvents, id: string, decide: (row: TaskRow) => Change): Promise<TaskRow> {
  const row = (await getTaskRow(t.sql, id))!;
  const c = decide(row);
  expect((await applyChanges(t.sql, [c], c.next.updated_at, sink)).has(id)).toBe(true);
  return c.next;
}

describe('event storage', () => {
  it('every envelope rebuilt from storage equals the one the writer built, with every Task field set', async () => {
    const sink = committedEvents();
    const parent = decideCreate(newTaskInput({ title: 'parent', requester: 'r' }), at(0));
    await insertTaskRows(t.sql, [parent.row], parent.events, at(0));
    const id = randomUUID();
    const created = decideCreate(
      {
        id,
        title: 'every field ✓',
        // What the stored envelopes' one-parameter array (store/events.ts jsonTextArray) must survive.
        description: 'a description with "quotes", a \\ backslash, a\nnew line, a\ttab, \u2028, {braces}, a comma and ünïcode',
        requester: 'requester-x',
        owner: 'owner-y',
        scope: 'Research',
        capabilities: ['web', 'pdf'],
        required_tags: requiredTags('Research', ['web', 'pdf']),
        priority: 7,
        context: { big: 'x'.repeat(2000), nested: { a: [1, 2, { b: null }] } },
        timeout_ms: 120_000,
        max_retries: 2,
        parent_id: parent.row.id,
        not_before: at(1),
        depends_on: [],
        workflow_run_id: null,
        step_id: null,
        start_by: at(50),
        schedule_id: null,
        scheduled_for: at(1),
        callback_url: 'https://hooks.example/cb',
        callback_events: ['completed', 'failed'],
      },
      at(0),
    );
    await insertTaskRows(t.sql, [created.row], created.events, at(0), sink);
    await apply(sink, id, (r) => decidePatch(r, { context: { added: true }, priority: 9 }, at(2), 64 * 1024));
    await apply(sink, id, (r) => decideAssignment(r, { agent: 'agent-a', score: 1.45, woke: true }, at(3), 30_000));
    await apply(sink, id, (r) => decideProgress(r, 'agent-a', { message: 'half', percent: 50, data: { k: 1 } }, at(4)));
    await apply(sink, id, (r) => decideFail(r, 'agent-a', { error: 'flaky', retryable: true }, { baseMs: 1000, maxMs: 5000 }, noRandom, at(5)));
    await apply(sink, id, (r) => decideAssignment(r, { agent: 'agent-b', score: 1, woke: false }, at(10), 30_000));
    await apply(sink, id, (r) => decideComplete(r, 'agent-b', { answer: 42, list: ['a'] }, at(11)));

    const written = sink.rows.map((r) => JSON.parse(r.json));
    expect(written.map((e) => e.type)).toEqual([
      'task.created',
      'task.assigned',
      'task.started',
      'task.progress',
      'task.failed',
      'task.retry',
      'task.assigned',
      'task.completed',
    ]);
    const rebuilt = await eventsOfTask(t.sql, id);
    expect(rebuilt).toEqual(written);
    // The completed event's task carries every field at its final value.
    expect(rebuilt.at(-1)!.data.task).toMatchObject({ owner: 'owner-y', parent_id: parent.row.id, result: { answer: 42, list: ['a'] }, priority: 9 });
  });

  it('stores less than the whole envelope, and rows stored whole (before 0017) read back as they are', async () => {
    const [sizes] = await t.sql<{ stored: number; rebuilt: number }[]>`
      select sum(pg_column_size(e.envelope))::int as stored, sum(pg_column_size(dispatch_task_envelope(e)))::int as rebuilt
      from task_events e where e.kind = 'task'`;
    expect(sizes!.stored).toBeLessThan(sizes!.rebuilt * 0.75);
    const whole = { id: randomUUID(), type: 'task.progress', source: 'dispatch', data: { task: { id: 'x' } } };
    const task = (await t.sql<{ id: string }[]>`select id from tasks limit 1`)[0]!.id;
    await t.sql`insert into task_events (id, task_id, type, envelope, created_at) values (${whole.id}, ${task}, 'progress', ${t.sql.json(whole as never)}, now())`;
    const [back] = await t.sql<{ envelope: unknown }[]>`select dispatch_task_envelope(e) as envelope from task_events e where e.id = ${whole.id}`;
    expect(back!.envelope).toEqual(whole);
  });
});
