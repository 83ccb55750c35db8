// SQL of fair share between requesters (§16.3) and of the agents' track record (§16.4); see
// docs/fairness.md and migrations/0015.
import type { Db, Sql } from './db.js';
import type { PendingRef } from './assignments.js';
import { toRecord, type AgentRecord, type Outcome } from '../core/record.js';

/** The most requesters of one priority band a fair read walks (the bound on the loose index scan). */
export const MAX_FAIR_REQUESTERS = 1000;

/** Where one requester's reading stopped in a band. */
export interface KeysetPos {
  created_at: Date;
  id: string;
}

/** Which band a fair read covers and, per requester, where to continue in it. */
export type BandFrom = { priority: number; after: ReadonlyMap<string, KeysetPos> } | { below: number } | undefined;

export interface FairBand {
  /** The band read (null: no pending task at or below the band asked for). */
  priority: number | null;
  /** Due tasks of the band, each requester's oldest first after its position, at most `k` each. */
  tasks: PendingRef[];
  /** Tasks read per requester: a requester that gave k may have more in the band. */
  k: number;
  /** requester → its turn (requester_turns.served), for the requesters read. */
  turns: Map<string, number>;
}

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * One priority band's candidates for a fair page, bounded whatever the queue's size: the band is
 * the top pending priority (or the one asked for, or the highest below `below`: one entry of the
 * pending index); its distinct requesters come from a loose index scan (one probe of
 * tasks_pending_requester_idx per requester, at most MAX_FAIR_REQUESTERS); and for each, at most
 * k = ceil(limit / requesters) of its oldest due tasks after its position (an index range each).
 * So the read touches O(requesters + limit) index entries, and every task it returns is a prefix
 * of its requester's queue: ordered by core/fairness.ts fairOrder, the rows are an exact prefix of
 * the band's fair order. Tasks of `heldKeys` (flow keys that may start nothing now, §20) are
 * skipped by a filter inside each requester's range (docs/flow-control.md: the fair read walks a
 * requester's held tasks, the fifo read never does).
 */
export async function fairBand(db: Sql, now: Date, limit: number, from: BandFrom, heldKeys: readonly string[] = []): Promise<FairBand> {
  const bandQuery =
    from === undefined
      ? db`select priority from tasks where status = 'pending' and call is null order by priority desc limit 1`
      : 'below' in from
        ? db`select priority from tasks where status = 'pending' and call is null and priority < ${from.below} order by priority desc limit 1`
        : db`select ${from.priority}::int as priority`;
  const after = from && 'after' in from ? [...from.after.entries()] : [];
  const rows = await db<(PendingRef & { fair_band: number; fair_k: number; fair_turn: string | null })[]>`
    with recursive band as (${bandQuery}),
    reqs(requester) as (
      (select t.requester from tasks t where t.status = 'pending' and t.call is null and t.priority = (select priority from band) order by t.requester limit 1)
      union all
      select (select t.requester from tasks t
              where t.status = 'pending' and t.call is null and t.priority = (select priority from band) and t.requester > reqs.requester
              order by t.requester limit 1)
      from reqs where reqs.requester is not null
    ), rq as (
      select r.requester, coalesce(c.created_at, '-infinity'::timestamptz) as c_at, coalesce(c.id, ${ZERO_UUID}::uuid) as c_id
      from (select requester from reqs where requester is not null limit ${MAX_FAIR_REQUESTERS}) r
      left join unnest(${db.array(after.map(([r]) => r))}::text[], ${db.array(after.map(([, p]) => p.created_at.toISOString()))}::timestamptz[],
                       ${db.array(after.map(([, p]) => p.id))}::uuid[]) as c(requester, created_at, id) on c.requester = r.requester
    ), k as (
      select greatest(1, ceil(${limit}::numeric / greatest(1, (select count(*) from rq))))::int as k
    )
    select x.*, (select priority from band) as fair_band, (select k from k) as fair_k, rt.served::text as fair_turn
    from rq
    cross join lateral (
      select t.*, t.xmin::text as version from tasks t
      where t.status = 'pending' and t.call is null and t.priority = (select priority from band) and t.requester = rq.requester
        and (t.created_at, t.id) > (rq.c_at, rq.c_id)
        and (t.not_before is null or t.not_before <= ${now})
        and (t.flow_key is null or t.flow_key <> all(${db.array([...heldKeys])}::text[]))
      order by t.created_at, t.id
      limit (select k from k)
    ) x
    left join requester_turns rt on rt.requester = rq.requester`;
  if (rows.length === 0) {
    const [b] = await db<{ priority: number | null }[]>`${bandQuery}`;
    return { priority: b?.priority ?? null, tasks: [], k: 1, turns: new Map() };
  }
  const turns = new Map<string, number>();
  const tasks = rows.map(({ fair_band: _b, fair_k: _k, fair_turn, ...t }) => {
    if (fair_turn !== null) turns.set(t.requester, Number(fair_turn));
    return t as PendingRef;
  });
  return { priority: rows[0]!.fair_band, tasks, k: rows[0]!.fair_k, turns };
}

/** Stamp the requesters' turns, in the order given (the last one is the most recently served). */
export async function recordTurns(db: Db, requesters: readonly string[]): Promise<Map<string, number>> {
  if (requesters.length === 0) return new Map();
  const rows = await db<{ requester: string; served: string }[]>`
    insert into requester_turns (requester, served)
    select u.r, nextval('requester_turn_seq') from unnest(${db.array([...requesters])}::text[]) with ordinality as u(r, ord) order by u.ord
    on conflict (requester) do update set served = excluded.served
    returning requester, served::text as served`;
  return new Map(rows.map((r) => [r.requester, Number(r.served)]));
}

/** The track-record window as the database holds it (setTrackRecordSize; 100 before the first tick writes it). */
export const trackRecordWindow = (db: Db) => db`coalesce((select value from dispatch_settings where name = 'track_record_size'), 100)`;

/** Tell the database the track-record window (agentRecords and the retention sweep's trim read it). */
export async function setTrackRecordSize(db: Db, n: number): Promise<void> {
  await db`
    insert into dispatch_settings (name, value) values ('track_record_size', ${n})
    on conflict (name) do update set value = excluded.value where dispatch_settings.value <> excluded.value`;
}

/**
 * agent → its track record over the window set now (one row per agent that ever finished an
 * attempt). Migration 0066: an agent's latest running totals (agent_records) minus the totals
 * before the oldest outcome in its window (agent_outcomes, one primary-key probe per agent).
 */
export async function agentRecords(db: Db): Promise<Map<string, AgentRecord>> {
  const rows = await db<{ agent: string; completed: number; failed: number; timed_out: number; completed_ms: number }[]>`
    select r.agent, (r.completed - b.c)::int as completed, (r.failed - b.f)::int as failed, (r.timed_out - b.t)::int as timed_out,
           greatest(0, r.completed_ms - b.ms) as completed_ms
    from agent_records r
    cross join lateral (
      select o.before_completed as c, o.before_failed as f, o.before_timed_out as t, o.before_ms as ms
      from agent_outcomes o
      where o.agent = r.agent and o.seq > r.seq - ${trackRecordWindow(db)}
      order by o.seq limit 1
    ) b`;
  return new Map(rows.map((r) => [r.agent, toRecord(r)]));
}

/**
 * The track record's part of a statement that writes outcome events (core/record.ts outcomeOf):
 * `cte` records the outcomes of the tasks the statement wrote (`written`: a subquery of its ids)
 * with one call of dispatch_record_outcome_set (migrations 0062, 0066), agents in id order and each
 * agent's outcomes in the order given; `ref` must be selected by the statement (a CTE that is only
 * a query runs only when read). Empty fragments when there is nothing to record.
 */
export function recordOutcomes(db: Db, outcomes: readonly Outcome[], written: ReturnType<Db>): { cte: ReturnType<Db>; ref: ReturnType<Db> } {
  if (outcomes.length === 0) return { cte: db``, ref: db`` };
  if (outcomes.length === 1) return recordOne(db, outcomes[0]!, written);
  return {
    cte: db`, rec as (
      select dispatch_record_outcome_set(array_agg(o.agent order by o.agent, o.ord), array_agg(o.outcome order by o.agent, o.ord),
                                         array_agg(o.ms order by o.agent, o.ord)) as n
      from unnest(${db.array(outcomes.map((o) => o.taskId))}::uuid[], ${db.array(outcomes.map((o) => o.agent))}::text[],
                  ${db.array(outcomes.map((o) => o.outcome))}::text[], ${db.array(outcomes.map((o) => o.durationMs))}::float8[])
             with ordinality as o(task_id, agent, outcome, ms, ord)
      where o.task_id in (${written})
    )`,
    ref: db`, (select n from rec) as recorded`,
  };
}

/**
 * recordOutcomes for one outcome (a report's write: the 200/s case): what dispatch_record_outcome_set
 * does for a set of one — the agent's totals grow by it, and it is inserted with its number and
 * the totals before it — written as two CTEs of the statement. The set function's window
 * functions, grouping and joins, run for one row, had ~11 % of the backends' samples at 200/s;
 * per outcome 275 µs against 200 (statement-cost.ts, docs/benchmarks.md run 22).
 * test/track-record-set.test.ts checks that both forms leave the same rows. Data-modifying CTEs
 * run whether or not they are read: no `ref`.
 */
function recordOne(db: Db, o: Outcome, written: ReturnType<Db>): { cte: ReturnType<Db>; ref: ReturnType<Db> } {
  const c = o.outcome === 'completed' ? 1 : 0;
  const f = o.outcome === 'failed' ? 1 : 0;
  const t = o.outcome === 'timed_out' ? 1 : 0;
  const ms = o.outcome === 'completed' ? o.durationMs : 0;
  return {
    cte: db`, rec_totals as (
      insert into agent_records as a (agent, seq, completed, failed, timed_out, completed_ms)
      select ${o.agent}::text, 1, ${c}::bigint, ${f}::bigint, ${t}::bigint, ${ms}::float8
      where ${o.taskId}::uuid in (${written})
      on conflict (agent) do update set
        seq = a.seq + 1,
        completed = a.completed + excluded.completed,
        failed = a.failed + excluded.failed,
        timed_out = a.timed_out + excluded.timed_out,
        completed_ms = a.completed_ms + excluded.completed_ms
      returning a.agent, a.seq, a.completed, a.failed, a.timed_out, a.completed_ms
    ), rec_outcome as (
      insert into agent_outcomes (agent, seq, outcome, duration_ms, before_completed, before_failed, before_timed_out, before_ms)
      select a.agent, a.seq, ${o.outcome}::text, ${o.durationMs}::float8, a.completed - ${c}::bigint, a.failed - ${f}::bigint,
             a.timed_out - ${t}::bigint, a.completed_ms - ${ms}::float8
      from rec_totals a
    )`,
    ref: db``,
  };
}
