// Factories that write rows straight into a test database (with their `created` event), for
// tests that need tasks in a given state without going through the API.
import { randomUUID } from 'node:crypto';
import { decideAssignment, type Change, type NewTask } from '../../src/core/decisions.js';
import { requiredTags, rowToTask, type TaskRow, type TaskStatus } from '../../src/core/task.js';
import type { BatchItem } from '../../src/store/assignments.js';
import type { Sql } from '../../src/store/db.js';
import { insertEvents } from '../../src/store/events.js';
import { applyChanges, lockTaskRow, unversioned, type VersionedRow } from '../../src/store/tasks.js';

export interface TaskOverrides {
  id?: string;
  title?: string;
  requester?: string;
  owner?: string | null;
  scope?: string | null;
  capabilities?: string[];
  priority?: number;
  status?: TaskStatus;
  assignee?: string | null;
  timeout_ms?: number;
  max_retries?: number;
  retry_count?: number;
  not_before?: Date | null;
  deadline_at?: Date | null;
  wake_deadline_at?: Date | null;
  created_at?: Date;
  assigned_at?: Date | null;
  context?: Record<string, unknown>;
  parent_id?: string | null;
  flow_key?: string | null;
}

/** A create's input (core/decisions.ts decideCreate) with every field at a plain value; `o` overrides. */
export function newTaskInput(o: Partial<NewTask> = {}): NewTask {
  return {
    id: randomUUID(),
    title: 'a task',
    description: null,
    requester: 'requester-1',
    owner: null,
    scope: null,
    capabilities: [],
    required_tags: [],
    priority: 5,
    context: {},
    timeout_ms: 60_000,
    max_retries: 0,
    parent_id: null,
    not_before: null,
    depends_on: [],
    workflow_run_id: null,
    step_id: null,
    ...o,
  };
}

export async function insertTask(sql: Sql, o: TaskOverrides = {}): Promise<TaskRow> {
  const now = o.created_at ?? new Date();
  const status = o.status ?? 'pending';
  const active = status === 'assigned' || status === 'running';
  const row = {
    id: o.id ?? randomUUID(),
    title: o.title ?? 'a task',
    requester: o.requester ?? 'requester-1',
    owner: o.owner ?? null,
    scope: o.scope ?? null,
    capabilities: o.capabilities ?? [],
    required_tags: requiredTags(o.scope, o.capabilities ?? []),
    priority: o.priority ?? 5,
    status,
    assignee: o.assignee ?? (active ? 'agent-1' : null),
    context: sql.json((o.context ?? {}) as never),
    timeout_ms: o.timeout_ms ?? 300_000,
    max_retries: o.max_retries ?? 3,
    retry_count: o.retry_count ?? 0,
    attempt: active ? 1 : 0,
    not_before: o.not_before ?? null,
    deadline_at: o.deadline_at ?? null,
    wake_deadline_at: o.wake_deadline_at ?? null,
    queued_at: now,
    created_at: now,
    updated_at: now,
    assigned_at: o.assigned_at ?? (active ? now : null),
    parent_id: o.parent_id ?? null,
    flow_key: o.flow_key ?? null,
  };
  return sql.begin(async (tx) => {
    const [inserted] = await tx<TaskRow[]>`insert into tasks ${tx(row as never)} returning *`;
    // The stats counters, as the store's own inserts write them (no trigger on tasks: migrations/0021).
    await tx`insert into task_stat_deltas (status, n) values (${status}, 1)`;
    await insertEvents(tx, [{ type: 'created', task: rowToTask(inserted!) }], now);
    return inserted!;
  });
}

/** An assignment decision for assignBatch, as the scheduler makes it from the row it read. */
export function assignItem(read: VersionedRow, agent: string, now: Date, o: { score?: number; woke?: boolean; wakeTimeoutMs?: number } = {}): BatchItem {
  const c = decideAssignment(unversioned(read), { agent, score: o.score ?? 1, woke: o.woke ?? false }, now, o.wakeTimeoutMs ?? 60_000);
  return { ...c, version: read.version };
}

/**
 * Decide on the locked row and apply the change, as the services do (for tests and fakes that
 * play a worker or a requester without HTTP). Returns the row written, or undefined if the
 * decision threw (a refused report) or the task is missing.
 */
export async function applyDecision(sql: Sql, id: string, decide: (row: TaskRow) => Change): Promise<TaskRow | undefined> {
  return sql.begin(async (tx) => {
    const row = await lockTaskRow(tx, id);
    if (!row) return undefined;
    let c: Change;
    try {
      c = decide(row);
    } catch {
      return undefined;
    }
    const written = await applyChanges(tx, [c], c.next.updated_at);
    return written.has(id) ? c.next : undefined;
  }) as Promise<TaskRow | undefined>;
}
