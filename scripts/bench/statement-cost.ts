// What a hot-path SQL function costs Postgres per row, one body against another in the same
// database (issue #23: a lever in SQL is measured here, less exposed to the box's noise than a
// whole-run A/B; rounds still vary by ~15 %, so compare medians): the server backend's CPU (/proc/<pid>/stat) over batches of the sizes a burn-down sends,
// each body installed in turn with `create or replace`, rounds alternating. The bodies are the
// migrations' own texts: the last two migrations that define each function.
//   - dispatch_assign (0060 against 0067: each event's envelope parsed once),
//     batches of 32 pending tasks over 50 agents (the page read and a delete of the batch's rows
//     afterwards included, the same for both);
//   - dispatch_record_outcome_set (0063, with its eviction, against 0066:
//     running totals, nothing deleted), batches of 32 outcomes over 50 agents, windows full;
//   - a create's sync match, per create (not per batch): dispatch_create_matched (0061: the task as
//     matched and as unmatched, two full rows) against dispatch_create_matched_diff (0069: the
//     matched row and the columns where the unmatched one differs), each with the create's two
//     events, each create to an agent with a free slot (the 200/s case); both functions are in
//     the migrated schema, so the calls alternate, not the bodies.
//   - a report's one outcome in the track record: dispatch_record_outcome_set for a set of one
//     against recordOutcomes' two CTEs (store/fairness.ts recordOne), per outcome, to agents of 50
//     with a window full; alternating calls, not bodies (both are in the migrated schema).
//   - with --create-parts, only what each part of a create's sync match costs (docs/benchmarks.md run 24):
//     dispatch_create_matched_diff as the last migration defines it, against the same body without
//     one part (its two events with their queue rows; the queue rows alone; the envelopes' jsonb
//     parse, an empty object stored instead; the agent's last_assigned_at; its stats delta), with
//     the agent's row locked by `select … for no key update` instead of an upsert, and against the
//     schema without task_events' unique index on id, without its (task_id, seq) index, and without
//     five secondary indexes of `tasks` (list, requester, assignee, wake, expiry); each variant
//     installed in turn, rounds alternating, each create to a fresh agent.
//   npx tsx scripts/bench/statement-cost.ts [--rounds 4] [--create-parts]
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIGRATIONS_DIR } from '../../src/store/db.js';
import { num, parseArgs } from './lib/args.js';
import { withBackend } from './lib/backend.js';
import { trimTrackRecord } from '../../src/store/retention.js';
import { recordOutcomes } from '../../src/store/fairness.js';
import { decideAssignment, decideCreate } from '../../src/core/decisions.js';
import { eventColumns, jsonTextArray } from '../../src/store/events.js';
import { pendingDiff, SYNC_MATCH_HEAD } from '../../src/store/tasks.js';
import { newTaskInput } from '../../test/helpers/factories.js';
import { insertPending } from './lib/seed.js';

const args = parseArgs();
const rounds = num(args.get('rounds'), 4);
const BATCH = 32;
const AGENTS = Array.from({ length: 50 }, (_, i) => `agent-${i}`);

/** The text of `create … function <name>(` … `end $$;` in migration `file`, as `create or replace`. */
function functionText(file: string, name: string): string {
  const text = readFileSync(path.join(MIGRATIONS_DIR, file), 'utf8');
  const start = text.search(new RegExp(`create (or replace )?function ${name}\\(`));
  const end = text.indexOf('end $$;', start);
  if (start < 0 || end < 0) throw new Error(`${name} not found in ${file}`);
  return text.slice(start, end + 'end $$;'.length).replace(/^create function/, 'create or replace function');
}

/** The migrations that define function `name`, oldest first. */
function definingFiles(name: string): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}_.*\.sql$/.test(f) && new RegExp(`create (or replace )?function ${name}\\(`).test(readFileSync(path.join(MIGRATIONS_DIR, f), 'utf8')))
    .sort();
}

/** The last two migrations that define function `name`: { previous body, current body }, by file. */
function lastTwo(name: string): Record<string, string> {
  const files = definingFiles(name);
  if (files.length < 2) throw new Error(`fewer than two migrations define ${name}`);
  return Object.fromEntries(files.slice(-2).map((f) => [f.slice(0, 4), functionText(f, name)]));
}

/** The body of function `name` as the last migration that defines it gives it. */
function lastBody(name: string): string {
  return functionText(definingFiles(name).at(-1)!, name);
}

/** `body` with `part` taken out (or replaced by `by`); throws when the body no longer has it, so a variant never measures the body unchanged. */
function without(body: string, part: string | RegExp, by = ''): string {
  const out = body.replace(part, by);
  if (out === body) throw new Error(`the body no longer has ${String(part)}`);
  return out;
}

/** Each variant's rounds and their median, under a title. */
function printRounds(title: string, byName: Record<string, number[]>): void {
  console.log(title);
  for (const [name, xs] of Object.entries(byName))
    console.log(`  ${name}: ${xs.map((x) => x.toFixed(1)).join(' · ')} (median ${[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1)})`);
}

await withBackend('bench_statement_cost', async ({ sql, cpuPerCall }) => {
  const creates = 1000;
  let k = 0;
  /** One create matched to a fresh agent (a free slot, the 200/s case), through function `fn`. */
  const create = (fn: 'dispatch_create_matched' | 'dispatch_create_matched_diff') => async () => {
    const at = new Date();
    const created = decideCreate(newTaskInput({ title: 'a benchmark task', requester: 'bench', context: { bench_i: k } }), at);
    const match = decideAssignment(created.row, { agent: `create-agent-${k++}`, score: 1.5, woke: false }, at, 30_000);
    const cols = eventColumns([...created.events, ...match.events], at);
    const second = fn === 'dispatch_create_matched' ? created.row : pendingDiff(match.next, created.row);
    await sql`select * from ${sql(fn)}(${sql.json(match.next as never)}::jsonb, ${sql.json(second as never)}::jsonb,
      ${sql.array(cols.ids)}::uuid[], ${sql.array(cols.types)}::text[], ${jsonTextArray(sql, cols.stored)}, ${created.events.length}::int,
      ${sql.array([] as string[])}::text[], 3::int, ${SYNC_MATCH_HEAD}::int, ${at}::timestamptz)`;
  };

  if (args.has('create-parts')) {
    const body = lastBody('dispatch_create_matched_diff');
    const indexes = ['tasks_list_idx', 'tasks_requester_idx', 'tasks_assignee_idx', 'tasks_wake_idx', 'tasks_expiry_idx'];
    const defs = await sql<{ name: string; def: string }[]>`select indexname as name, indexdef as def from pg_indexes where indexname = any(${indexes})`;
    if (defs.length !== indexes.length) throw new Error(`expected the indexes ${indexes.join(', ')}`);
    const installed = (text: string) => ({ up: () => sql.unsafe(text), down: () => sql.unsafe(body) });
    const variants: Record<string, { up(): Promise<unknown>; down(): Promise<unknown> }> = {
      'as it is': { up: async () => {}, down: async () => {} },
      'without its two events and their queue rows': installed(without(body, /with ev as \(\s*insert into task_events[\s\S]*?from ev;/)),
      'its events without their queue rows': installed(
        without(
          body,
          'insert into task_events_unpublished (seq, id, task_id) select ev.seq, ev.id, ev.task_id from ev;',
          'select count(*) into v_older from ev;',
        ),
      ),
      "its events' envelopes not parsed (an empty object stored)": installed(without(body, 'e.envelope::jsonb', "'{}'::jsonb")),
      "without the agent's last_assigned_at": installed(without(body, 'update agents set last_assigned_at = p_now where id = v_agent;')),
      'without its stats delta': installed(without(body, "insert into task_stat_deltas (status, n) values (p_assigned ->> 'status', 1);")),
      "the agent's row locked, not upserted": installed(
        without(
          body,
          /insert into agents as g \(id\) values \(v_agent\)\s*on conflict \(id\) do update set id = excluded.id\s*returning g.drained into v_drained;/,
          `select g.drained into v_drained from agents g where g.id = v_agent for no key update;
           if not found then
             insert into agents as g (id) values (v_agent) on conflict (id) do update set id = excluded.id returning g.drained into v_drained;
           end if;`,
        ),
      ),
      "without task_events' unique index on id": {
        up: () => sql`alter table task_events drop constraint task_events_id_key`,
        down: () => sql`alter table task_events add constraint task_events_id_key unique (id)`,
      },
      "without task_events' index on (task_id, seq)": {
        up: () => sql`drop index task_events_task_idx`,
        down: () => sql`create index task_events_task_idx on task_events (task_id, seq)`,
      },
      [`without ${indexes.length} secondary indexes of tasks`]: {
        up: async () => {
          for (const i of indexes) await sql.unsafe(`drop index ${i}`);
        },
        down: async () => {
          for (const d of defs) await sql.unsafe(d.def);
        },
      },
    };
    const byVariant: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((v) => [v, []]));
    for (let i = 0; i < 300; i++) await create('dispatch_create_matched_diff')();
    for (let r = 0; r < rounds; r++)
      for (const [name, v] of Object.entries(variants)) {
        await v.up();
        byVariant[name]!.push(await cpuPerCall(creates, create('dispatch_create_matched_diff')));
        await v.down();
      }
    printRounds(`a create's sync match by its parts, backend CPU µs per create (${rounds} rounds of ${creates}):`, byVariant);
    return;
  }

  /** Each body in turn, `rounds` times; `prepare` (not measured) runs after a body is installed. */
  const compare = async (label: string, bodies: Record<string, string>, step: () => Promise<unknown>, calls: number, prepare?: () => Promise<unknown>) => {
    const out: Record<string, number[]> = Object.fromEntries(Object.keys(bodies).map((k) => [k, []]));
    for (let r = 0; r < rounds; r++)
      for (const [name, body] of Object.entries(bodies)) {
        await sql.unsafe(body);
        await prepare?.();
        out[name]!.push((await cpuPerCall(calls, step)) / BATCH);
      }
    printRounds(`${label}, backend CPU µs per row (${rounds} rounds of ${calls} batches of ${BATCH}), by the migration that defines it:`, out);
  };

  // dispatch_assign: the next BATCH pending tasks to agents in turn, each with its `assigned` envelope.
  const calls = 150;
  await insertPending(sql, rounds * 2 * calls * BATCH + 1000);
  const now = new Date();
  const envelope = (id: string, task: string, agent: string) =>
    JSON.stringify({
      id: randomUUID(),
      type: 'task.assigned',
      timestamp: now.toISOString(),
      data: {
        agent,
        score: 1.5,
        task: {
          id: undefined,
          status: 'assigned',
          assignee: agent,
          priority: 5,
          context: { bench_i: id },
          required_tags: ['bench'],
          attempt: 1,
          max_retries: 3,
          retry_count: 0,
          queued_at: now.toISOString(),
          updated_at: now.toISOString(),
          assigned_at: now.toISOString(),
          deadline_at: new Date(+now + 300_000).toISOString(),
          heartbeat_timeout_ms: null,
          heartbeat_deadline_at: null,
          input_timeout_ms: 86_400_000,
          flow_key: null,
          dry_run: false,
          version: task.slice(0, 8),
        },
      },
    });
  let turn = 0;
  const assign = async () => {
    const page = await sql<{ id: string; version: string }[]>`
      select id, xmin::text as version from tasks where status = 'pending' order by priority desc, created_at, id limit ${BATCH}`;
    const agents = page.map(() => AGENTS[turn++ % AGENTS.length]!);
    const at = (ms: number) => page.map(() => new Date(+now + ms).toISOString());
    const none = page.map(() => null);
    const a = (xs: unknown[]) => sql.array(xs as never[]);
    await sql`select * from dispatch_assign(
      ${a(page.map((p) => p.id))}::uuid[], ${a(agents)}::text[], ${a(page.map((p) => p.version))}::text[],
      ${a(page.map((p, i) => envelope(p.id, p.id, agents[i]!)))}::text[], ${a(page.map(() => 1))}::int[],
      ${a(at(300_000))}::timestamptz[], ${a(at(30_000))}::timestamptz[], ${a(none)}::timestamptz[],
      ${a(page.map(() => 1.5))}::float8[], ${a(page.map(() => false))}::bool[], ${now}::timestamptz, 1000000::int,
      ${a(none)}::text[], ${a(none)}::int[], ${a(none)}::int[], ${a(none)}::int[], ${a(none)}::int[])`;
    // Gone again, so an agent's active count stays as small as in a burn-down (the same for both bodies).
    await sql`delete from tasks where id = any(${a(page.map((p) => p.id))}::uuid[])`;
  };
  await compare('dispatch_assign', lastTwo('dispatch_assign'), assign, calls);

  // dispatch_record_outcome_set: BATCH outcomes of random agents, every agent's window (100) full.
  await sql`insert into dispatch_settings (name, value) values ('track_record_size', 100) on conflict (name) do update set value = excluded.value`;
  const outcomes = ['completed', 'completed', 'completed', 'failed', 'timed_out'];
  const record = () => {
    const agents = Array.from({ length: BATCH }, () => AGENTS[Math.floor(Math.random() * AGENTS.length)]!).sort();
    return sql`select dispatch_record_outcome_set(${agents}::text[], ${agents.map(() => outcomes[Math.floor(Math.random() * outcomes.length)]!)}::text[],
                                                  ${agents.map(() => Math.random() * 1000)}::float8[])`;
  };
  for (let i = 0; i < (2 * 100 * AGENTS.length) / BATCH; i++) await record();
  // A body that evicts as it goes (0063) starts from rings trimmed to the window, as it leaves them.
  await compare('dispatch_record_outcome_set', lastTwo('dispatch_record_outcome_set'), record, 200, async () => {
    while ((await trimTrackRecord(sql, 5000)) > 0);
  });

  // A create's sync match: the old call and the new, alternating, each create to a fresh agent and
  // nothing pending (the assign step's leftovers would make every create wait behind them).
  await sql`delete from tasks where status = 'pending'`;
  const byCall: Record<string, number[]> = { '0061 dispatch_create_matched': [], '0069 dispatch_create_matched_diff': [] };
  for (let r = 0; r < rounds; r++) {
    byCall['0061 dispatch_create_matched']!.push(await cpuPerCall(creates, create('dispatch_create_matched')));
    byCall['0069 dispatch_create_matched_diff']!.push(await cpuPerCall(creates, create('dispatch_create_matched_diff')));
  }
  printRounds(`a create's sync match, backend CPU µs per create (${rounds} rounds of ${creates}), by the migration that defines the function:`, byCall);

  // One outcome, as a report's statement records it: the set function for a set of one, or the two CTEs.
  const oneOutcome = (form: 'set function' | 'two CTEs') => async () => {
    const agent = AGENTS[Math.floor(Math.random() * AGENTS.length)]!;
    const o = outcomes[Math.floor(Math.random() * outcomes.length)] as 'completed' | 'failed' | 'timed_out';
    const ms = Math.random() * 1000;
    if (form === 'set function') return sql`select dispatch_record_outcome_set(${[agent]}::text[], ${[o]}::text[], ${[ms]}::float8[])`;
    const taskId = randomUUID();
    const rec = recordOutcomes(sql, [{ taskId, agent, outcome: o, durationMs: ms }], sql`select id from w`);
    return sql`with w as (select ${taskId}::uuid as id) ${rec.cte} select 1 as done ${rec.ref}`;
  };
  const byForm: Record<string, number[]> = { 'set function': [], 'two CTEs': [] };
  for (let r = 0; r < rounds; r++) for (const form of ['set function', 'two CTEs'] as const) byForm[form]!.push(await cpuPerCall(2000, oneOutcome(form)));
  printRounds(`a report's one outcome in the track record, backend CPU µs per outcome (${rounds} rounds of 2000):`, byForm);
});
