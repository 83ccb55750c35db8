// Agent use cases behind the admin routes and the gauges: the fleet as Dispatch sees it (the
// directory's cached view merged with drain flags and active counts) and the persisted drain flag.
import type { ServiceContext } from '../context.js';
import { announceChanges } from './announce.js';
import { decideRequeue } from '../core/decisions.js';
import type { TaskRow } from '../core/task.js';
import { recordTransition } from '../observability/metrics.js';
import { activeCounts, listAgentRows, setDrained } from '../store/agents.js';
import { lockAgentTasks } from '../store/assignments.js';
import { inTransaction } from '../store/db.js';
import { applyChanges } from '../store/tasks.js';
import { agentRecords } from '../store/fairness.js';
import { EMPTY_RECORD, type AgentRecord } from '../core/record.js';

export interface AgentSummary {
  id: string;
  name: string;
  capabilities: string[];
  state: string;
  owner_ids?: string[];
  active_tasks: number;
  max_concurrent: number;
  drained: boolean;
  /** Its last assignment.track_record_size finished attempts (§16.4). */
  record: AgentRecord;
}

/**
 * Every agent Dispatch knows of, sorted by id: the directory's agents (from cache: never waits for
 * a neighbour), plus agents known only to the database (drained, or holding tasks) as "unknown".
 */
export async function listAgents(ctx: Pick<ServiceContext, 'sql' | 'config' | 'agents'>): Promise<AgentSummary[]> {
  const [counts, rows, records] = await Promise.all([activeCounts(ctx.sql), listAgentRows(ctx.sql), agentRecords(ctx.sql)]);
  const max = ctx.config.assignment.max_concurrent_per_agent;
  const drained = new Map(rows.map((r) => [r.id, r.drained]));
  const known = ctx.agents.cachedAgents();
  const ids = new Set(known.map((a) => a.id));
  const extra = [...new Set([...rows.map((r) => r.id), ...counts.keys()])].filter((id) => !ids.has(id));
  const agents = [...known, ...extra.map((id) => ({ id, name: id, capabilities: [] as string[], state: 'unknown', ownerIds: [] as string[] }))].sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  return agents.map((a) => ({
    id: a.id,
    name: a.name,
    capabilities: a.capabilities,
    state: a.state,
    ...(a.ownerIds.length ? { owner_ids: a.ownerIds } : {}),
    active_tasks: counts.get(a.id) ?? 0,
    max_concurrent: max,
    drained: drained.get(a.id) ?? false,
    record: records.get(a.id) ?? EMPTY_RECORD,
  }));
}

/** Persist the drain flag; lifting it may make an assignment possible at once. */
export async function setDrain(
  ctx: Pick<ServiceContext, 'sql' | 'clock' | 'logger' | 'signals'>,
  id: string,
  drain: boolean,
): Promise<{ id: string; drained: boolean }> {
  const row = await setDrained(ctx.sql, id, drain, ctx.clock.now());
  ctx.logger.info({ agent: row.id }, drain ? 'agent drained' : 'agent drain lifted');
  if (!drain) ctx.signals.emit('assign-needed');
  return { id: row.id, drained: row.drained };
}

/**
 * An agent left (Warren: stopped or degraded): its assigned and running tasks go back to pending
 * without spending a retry, `reassigned` with `reason`. Returns the re-queued rows.
 */
export async function requeueAgentWork(ctx: Pick<ServiceContext, 'sql' | 'clock' | 'metrics' | 'signals'>, agent: string, reason: string): Promise<TaskRow[]> {
  const now = ctx.clock.now();
  const done = await inTransaction(ctx.sql, async (tx) => {
    const changes = (await lockAgentTasks(tx, agent)).map((row) => decideRequeue(row, reason, now));
    const written = await applyChanges(tx, changes, now);
    return changes.filter((c) => written.has(c.next.id));
  });
  announceChanges(ctx, done);
  for (const c of done) recordTransition(ctx.metrics, c.next);
  return done.map((c) => c.next);
}
