// SQL of flow control (§20, docs/flow-control.md, migrations/0060): the api limits, the keys'
// buckets and pauses, the scheduler's read of the keys with pending tasks, and the guard a claim
// outside dispatch_assign (the call tasks' executor) runs in its own transaction.
import type { FlowKeyState, FlowLimit, FlowLimitSpec } from '../core/flow.js';
import type { Db, Sql, Tx } from './db.js';

/** The most keys with pending tasks one tick reads (the bound on the loose index scan); the next tick continues after the last. */
export const MAX_FLOW_KEYS_PER_TICK = 1000;

interface LimitRow {
  key: string;
  rate: number | null;
  per_ms: number | null;
  burst: number | null;
  concurrency: number | null;
}

const toLimit = (r: LimitRow): FlowLimit => ({
  key: r.key,
  ...(r.rate !== null ? { rate: r.rate } : {}),
  ...(r.per_ms !== null ? { per_ms: r.per_ms } : {}),
  ...(r.burst !== null ? { burst: r.burst } : {}),
  ...(r.concurrency !== null ? { concurrency: r.concurrency } : {}),
  source: 'api',
});

export async function apiLimits(db: Db): Promise<FlowLimit[]> {
  return (await db<LimitRow[]>`select key, rate, per_ms, burst, concurrency from flow_limits order by key`).map(toLimit);
}

export async function putLimit(db: Db, key: string, l: FlowLimitSpec, now: Date): Promise<FlowLimit> {
  const [row] = await db<LimitRow[]>`
    insert into flow_limits (key, rate, per_ms, burst, concurrency, created_at, updated_at)
    values (${key}, ${l.rate ?? null}, ${l.per_ms ?? null}, ${l.burst ?? null}, ${l.concurrency ?? null}, ${now}, ${now})
    on conflict (key) do update set rate = excluded.rate, per_ms = excluded.per_ms, burst = excluded.burst,
      concurrency = excluded.concurrency, updated_at = excluded.updated_at
    returning key, rate, per_ms, burst, concurrency`;
  return toLimit(row!);
}

/** Whether an api limit of that pattern existed. */
export async function deleteLimit(db: Db, key: string): Promise<boolean> {
  return (await db`delete from flow_limits where key = ${key}`).count > 0;
}

type KeyRow = { key: string; tokens: number | null; refilled_at: string | null; paused_until: string | null; active: number };
const toState = (r: KeyRow): FlowKeyState => ({
  key: r.key,
  tokens: r.tokens,
  refilled_at: r.refilled_at === null ? null : new Date(r.refilled_at),
  paused_until: r.paused_until === null ? null : new Date(r.paused_until),
  active: r.active,
});

/** One key's row and active count (GET /api/v1/flow/keys/:key, explain). */
export async function keyState(db: Db, key: string): Promise<FlowKeyState> {
  const [r] = await db<{ tokens: number | null; refilled_at: Date | null; paused_until: Date | null; active: number }[]>`
    select f.tokens, f.refilled_at, f.paused_until,
      (select count(*)::int from tasks t where t.flow_key = ${key} and t.status in ('assigned','running','input_required')) as active
    from (select 1) one left join flow_keys f on f.key = ${key}`;
  return { key, tokens: r?.tokens ?? null, refilled_at: r?.refilled_at ?? null, paused_until: r?.paused_until ?? null, active: r?.active ?? 0 };
}

export async function setPause(db: Db, key: string, until: Date | null, now: Date): Promise<void> {
  if (until === null) {
    await db`update flow_keys set paused_until = null, updated_at = ${now} where key = ${key} and paused_until is not null`;
    return;
  }
  await db`
    insert into flow_keys (key, paused_until, updated_at) values (${key}, ${until}, ${now})
    on conflict (key) do update set paused_until = excluded.paused_until, updated_at = excluded.updated_at`;
}

export interface FlowRead {
  /** Keys with pending tasks (key order, after `after`, at most MAX_FLOW_KEYS_PER_TICK), with their rows and active counts. */
  keys: FlowKeyState[];
  /** Whether the scan stopped at the bound (more keys after the last one). */
  more: boolean;
  api: FlowLimit[];
}

/**
 * What a tick needs to know about flow keys, in ONE statement: the distinct keys with pending
 * tasks (a loose index scan of tasks_pending_flow_idx: one probe per key, whatever their backlog),
 * each with its bucket, pause and active count, and the api limits. Nothing when no task has a key.
 */
export async function flowRead(db: Sql, after?: string): Promise<FlowRead> {
  const start = after === undefined ? db`` : db`and flow_key > ${after}`;
  const [r] = await db<{ keys: KeyRow[] | null; api: LimitRow[] | null }[]>`
    with recursive ks(key) as (
      (select flow_key from tasks where status = 'pending' and flow_key is not null ${start} order by flow_key limit 1)
      union all
      select (select t.flow_key from tasks t where t.status = 'pending' and t.flow_key is not null and t.flow_key > ks.key order by t.flow_key limit 1)
      from ks where ks.key is not null
    ), k as (
      select key from ks where key is not null limit ${MAX_FLOW_KEYS_PER_TICK + 1}
    )
    select
      (select json_agg(json_build_object('key', k.key, 'tokens', f.tokens, 'refilled_at', f.refilled_at, 'paused_until', f.paused_until,
         'active', (select count(*) from tasks a where a.flow_key = k.key and a.status in ('assigned','running','input_required'))) order by k.key)
       from k left join flow_keys f on f.key = k.key) as keys,
      (select json_agg(json_build_object('key', l.key, 'rate', l.rate, 'per_ms', l.per_ms, 'burst', l.burst, 'concurrency', l.concurrency) order by l.key)
       from flow_limits l) as api`;
  const keys = (r?.keys ?? []).map(toState);
  const more = keys.length > MAX_FLOW_KEYS_PER_TICK;
  return { keys: more ? keys.slice(0, MAX_FLOW_KEYS_PER_TICK) : keys, more, api: (r?.api ?? []).map(toLimit) };
}

/** One start a claim wants to make: its flow key and the limit that applies (core/flow.ts limitFor). */
export interface FlowStart {
  key: string | null;
  limit: FlowLimitSpec | undefined;
}

const limitArrays = (db: Db, starts: readonly FlowStart[]) => ({
  keys: db.array(starts.map((s) => s.key) as string[]),
  rate: db.array(starts.map((s) => s.limit?.rate ?? null) as number[]),
  perMs: db.array(starts.map((s) => s.limit?.per_ms ?? null) as number[]),
  burst: db.array(starts.map((s) => (s.limit?.rate !== undefined ? (s.limit.burst ?? s.limit.rate) : null)) as number[]),
  concurrency: db.array(starts.map((s) => s.limit?.concurrency ?? null) as number[]),
});

/**
 * The flow guard for a claim that does not go through dispatch_assign (the call tasks' executor,
 * §18): in the claim's transaction, lock the limited keys' rows (key order) and answer, per start
 * in the order given, 'ok' or why not (flow_paused, flow_rate, flow_concurrency). Claim only the
 * 'ok' ones, then call flowTake with what was claimed, in the same transaction.
 */
export async function flowGuard(tx: Tx, starts: readonly FlowStart[], now: Date): Promise<string[]> {
  if (starts.length === 0) return [];
  const limited = starts.filter((s) => s.key !== null && s.limit && (s.limit.rate !== undefined || s.limit.concurrency !== undefined)).map((s) => s.key!);
  await tx`select dispatch_flow_lock(${tx.array(limited)}::text[], ${now})`;
  const a = limitArrays(tx, starts);
  const rows = await tx<{ outcome: string }[]>`
    select outcome from dispatch_flow_outcomes(${a.keys}::text[], ${a.rate}::int[], ${a.perMs}::int[], ${a.burst}::int[], ${a.concurrency}::int[], ${now})
    order by ord`;
  return rows.map((r) => r.outcome);
}

/** Take the tokens of the starts just claimed (after flowGuard, in its transaction). */
export async function flowTake(tx: Tx, started: readonly FlowStart[], now: Date): Promise<void> {
  if (started.length === 0) return;
  const a = limitArrays(tx, started);
  await tx`select dispatch_flow_take(${a.keys}::text[], ${a.rate}::int[], ${a.perMs}::int[], ${a.burst}::int[], ${now})`;
}
