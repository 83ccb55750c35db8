// The `agents` table (drain flag, last assignment) and per-agent active counts.
import type { Db } from './db.js';

export interface AgentRow {
  id: string;
  drained: boolean;
  drained_at: Date | null;
  last_assigned_at: Date | null;
}

export async function listAgentRows(db: Db): Promise<AgentRow[]> {
  return db<AgentRow[]>`select id, drained, drained_at, last_assigned_at from agents order by id`;
}

/** Persist the drain flag (upsert: an agent can be drained before Dispatch has seen it). */
export async function setDrained(db: Db, id: string, drained: boolean, now: Date): Promise<AgentRow> {
  const [row] = await db<AgentRow[]>`
    insert into agents (id, drained, drained_at) values (${id}, ${drained}, ${drained ? now : null})
    on conflict (id) do update set drained = excluded.drained, drained_at = excluded.drained_at
    returning id, drained, drained_at, last_assigned_at`;
  return row!;
}

/**
 * The one active-count query: assignee, n = assigned + running tasks (reads only the partial
 * active index). dispatch_assign (migrations/0006) re-counts the same way under the agent's lock.
 */
const activeCountsQuery = (db: Db) => db`
  select assignee, count(*)::int as n from tasks where status in ('assigned','running','input_required') group by assignee`;

/** agent id → assigned + running tasks. */
export async function activeCounts(db: Db): Promise<Map<string, number>> {
  const rows = await db<{ assignee: string; n: number }[]>`${activeCountsQuery(db)}`;
  return new Map(rows.map((r) => [r.assignee, r.n]));
}

/**
 * activeCounts and listAgentRows in one statement (one round trip, one commit per tick): the
 * `agents` rows, and agent id → assigned + running tasks (agents holding tasks without a row too).
 */
export async function agentRowsAndCounts(db: Db): Promise<{ rows: AgentRow[]; counts: Map<string, number> }> {
  const all = await db<(AgentRow & { known: boolean; n: number })[]>`
    select coalesce(a.id, c.assignee) as id, a.id is not null as known,
           coalesce(a.drained, false) as drained, a.drained_at, a.last_assigned_at, coalesce(c.n, 0)::int as n
    from agents a
    full join (${activeCountsQuery(db)}) c on c.assignee = a.id
    order by 1`;
  const rows: AgentRow[] = [];
  const counts = new Map<string, number>();
  for (const r of all) {
    if (r.known) rows.push({ id: r.id, drained: r.drained, drained_at: r.drained_at, last_assigned_at: r.last_assigned_at });
    if (r.n > 0) counts.set(r.id, r.n);
  }
  return { rows, counts };
}
