// SQL of workflow definitions (versioned) and runs (docs/workflows.md).
import type { RunRow, RunStatus, StepDefinition, Trigger } from '../core/workflow.js';
import type { TaskRow, TaskStatus } from '../core/task.js';
import type { Db, Tx } from './db.js';

export interface WorkflowRow {
  key: string;
  version: number;
  description: string | null;
  trigger: Trigger | null;
  steps: StepDefinition[];
  hash: string;
  created_by: string;
  created_at: Date;
  /** When the first version was stored. */
  first_created_at: Date;
}

/** The latest version of a workflow, or undefined. */
export async function latestWorkflow(db: Db, key: string): Promise<WorkflowRow | undefined> {
  const [row] = await db<WorkflowRow[]>`
    select w.*, (select min(created_at) from workflows f where f.key = w.key) as first_created_at
    from workflows w where w.key = ${key} order by w.version desc limit 1`;
  return row;
}

/** The latest version of every workflow whose trigger lists event types: the candidates a trigger event starts. */
export async function listeningWorkflows(db: Db): Promise<Pick<WorkflowRow, 'key' | 'trigger'>[]> {
  return db<Pick<WorkflowRow, 'key' | 'trigger'>[]>`
    select * from (select distinct on (key) key, trigger from workflows order by key, version desc) w
    where w.trigger ? 'event_types' order by key`;
}

/** The latest version of every workflow, by key. */
export async function listLatestWorkflows(db: Db): Promise<WorkflowRow[]> {
  return db<WorkflowRow[]>`
    select distinct on (w.key) w.*, min(w.created_at) over (partition by w.key) as first_created_at
    from workflows w order by w.key, w.version desc`;
}

/**
 * Store a definition unless the latest version has the same hash. Serialised per key by a
 * transaction-scoped advisory lock, so two concurrent PUTs of one key get versions n and n+1
 * (or one of them "unchanged"), never a duplicate version.
 */
export async function putWorkflow(
  tx: Tx,
  def: { key: string; description: string | null; trigger: Trigger | null; steps: StepDefinition[]; hash: string; created_by: string },
  now: Date,
): Promise<{ row: WorkflowRow; outcome: 'created' | 'updated' | 'unchanged' }> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`workflow:${def.key}`}, 0))`;
  const latest = await latestWorkflow(tx, def.key);
  if (latest && latest.hash === def.hash) return { row: latest, outcome: 'unchanged' };
  const version = (latest?.version ?? 0) + 1;
  await tx`
    insert into workflows (key, version, description, trigger, steps, hash, created_by, created_at)
    values (${def.key}, ${version}, ${def.description}, ${def.trigger === null ? null : tx.json(def.trigger as never)},
            ${tx.json(def.steps as never)}, ${def.hash}, ${def.created_by}, ${now})`;
  const row = (await latestWorkflow(tx, def.key))!;
  return { row, outcome: latest ? 'updated' : 'created' };
}

export async function insertRun(db: Db, run: RunRow): Promise<void> {
  await db`
    insert into workflow_runs (id, workflow_key, version, requester, status, context, steps, created_at, updated_at, completed_at,
                               user_id, intent_id, trigger_event_id)
    values (${run.id}, ${run.workflow_key}, ${run.version}, ${run.requester}, ${run.status}, ${db.json(run.context as never)},
            ${db.json(run.steps as never)}, ${run.created_at}, ${run.updated_at}, ${run.completed_at},
            ${run.user_id}, ${run.intent_id}, ${run.trigger_event_id})`;
}

export async function getRun(db: Db, id: string): Promise<RunRow | undefined> {
  const [row] = await db<RunRow[]>`select * from workflow_runs where id = ${id}`;
  return row;
}

/** Lock runs in id order (the last step of the dependency locking protocol, store/dependencies.ts). */
export async function lockRuns(tx: Tx, ids: readonly string[]): Promise<RunRow[]> {
  if (ids.length === 0) return [];
  return tx<RunRow[]>`
    select * from workflow_runs where id = any(${tx.array([...new Set(ids)] as string[])}::uuid[]) order by id for update`;
}

/** The current status of each task of the given runs: run id → (task id → status). */
export async function runTaskStatuses(db: Db, runIds: readonly string[]): Promise<Map<string, Map<string, TaskStatus>>> {
  const out = new Map<string, Map<string, TaskStatus>>(runIds.map((id) => [id, new Map()]));
  if (runIds.length === 0) return out;
  const rows = await db<{ workflow_run_id: string; id: string; status: TaskStatus }[]>`
    select workflow_run_id, id, status from tasks where workflow_run_id = any(${db.array([...new Set(runIds)] as string[])}::uuid[])`;
  for (const r of rows) out.get(r.workflow_run_id)?.set(r.id, r.status);
  return out;
}

export async function updateRunStatus(db: Db, run: RunRow): Promise<void> {
  await db`
    update workflow_runs set status = ${run.status}, updated_at = ${run.updated_at}, completed_at = ${run.completed_at}
    where id = ${run.id}`;
}

/** Lock a run's live tasks (not terminal), in id order: what cancelling the run cancels. */
export async function lockLiveRunTasks(tx: Tx, runId: string): Promise<TaskRow[]> {
  return tx<TaskRow[]>`
    select * from tasks where workflow_run_id = ${runId} and status in ('waiting','pending','assigned','running','input_required')
    order by id for update`;
}

export interface RunListFilter {
  workflowKey?: string;
  statuses?: RunStatus[];
  requester?: string;
  after?: { createdAt: string; id: string };
  limit: number;
}

export type ListedRun = RunRow & { cursor_ts: string };

/** Newest first, keyset on (created_at desc, id desc), like the task list. */
export async function listRunRows(db: Db, f: RunListFilter): Promise<ListedRun[]> {
  const conds = [];
  if (f.workflowKey !== undefined) conds.push(db`workflow_key = ${f.workflowKey}`);
  if (f.statuses?.length) conds.push(db`status = any(${db.array(f.statuses)}::text[])`);
  if (f.requester !== undefined) conds.push(db`requester = ${f.requester}`);
  if (f.after) conds.push(db`(created_at, id) < (${f.after.createdAt}::timestamptz, ${f.after.id}::uuid)`);
  const where = conds.length ? conds.reduce((acc, c, i) => (i === 0 ? db`where ${c}` : db`${acc} and ${c}`), db``) : db``;
  return db<ListedRun[]>`
    select *, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_ts
    from workflow_runs ${where}
    order by created_at desc, id desc
    limit ${f.limit}`;
}
