// What Postgres spends on one `tasks` row (issue #23's slim-table question): the server backend's
// CPU (/proc/<pid>/stat) per single-row insert and per single-row update, one statement per round
// trip, through jsonb_populate_record as the store writes rows — with every index of the migrated
// schema; with only the indexes on columns no transition changes and room left in each page
// (fillfactor 70), so the update can be HOT (the slim-table question: what the record would cost if
// the status-bound indexes lived elsewhere); with the primary key alone (the one-column CHECKs as
// domains, as migration 0068 made them); that with them as table constraints instead (before
// 0068: what preparing them for every statement costs); and without them. For scale, `select 1` and
// a 3-column insert. The updates that were HOT are counted (pg_stat_user_tables).
//   npx tsx scripts/bench/row-cost.ts [--rows 4000]
import { randomUUID } from 'node:crypto';
import { num, parseArgs } from './lib/args.js';
import { withBackend } from './lib/backend.js';

const rows = num(parseArgs().get('rows'), 4000);
await withBackend('bench_row_cost', async ({ sql, cpuPerCall: perCall }) => {
  const now = new Date();
  // An assigned task as a sync match writes it (the columns a create sets; the rest take defaults).
  const row = (id: string) => ({
    id,
    title: 'bench',
    requester: 'bench-producer-1',
    capabilities: ['bench'],
    required_tags: ['bench'],
    priority: 5,
    status: 'assigned',
    assignee: 'agent-1',
    context: { bench_i: 1 },
    timeout_ms: 300_000,
    max_retries: 3,
    retry_count: 0,
    attempt: 1,
    queued_at: now,
    created_at: now,
    updated_at: now,
    assigned_at: now,
    deadline_at: new Date(+now + 300_000),
    heartbeat_timeout_ms: 60_000,
    heartbeat_deadline_at: new Date(+now + 60_000),
    assigned_score: 1.5,
    assigned_woke: false,
    depends_on: [],
    has_dependents: false,
    input_timeout_ms: 86_400_000,
    dry_run: false,
  });
  const lifecycle = async (label: string) => {
    const ids = Array.from({ length: rows }, () => randomUUID());
    const insert = await perCall(
      rows,
      (i) => sql`insert into tasks select * from jsonb_populate_record(null::tasks, ${sql.json(row(ids[i]!) as never)}::jsonb)`,
    );
    const update = await perCall(
      rows,
      (i) => sql`update tasks set status = 'completed', result = ${sql.json({ ok: true } as never)}, completed_at = ${new Date()}, updated_at = ${new Date()},
                   deadline_at = null, heartbeat_deadline_at = null where id = ${ids[i]!} and status = 'assigned'`,
    );
    await sql`select pg_stat_force_next_flush()`;
    await sql`select pg_stat_clear_snapshot()`;
    const hot = (
      await sql<{ n: string; h: string }[]>`select n_tup_upd::text as n, n_tup_hot_upd::text as h from pg_stat_user_tables where relname = 'tasks'`
    )[0]!;
    const hotShare = (Number(hot.h) - hot0) / (Number(hot.n) - upd0);
    hot0 = Number(hot.h);
    upd0 = Number(hot.n);
    console.log(`| ${label} | ${insert.toFixed(0)} | ${update.toFixed(0)} | ${(100 * hotShare).toFixed(0)} % |`);
  };
  let hot0 = 0;
  let upd0 = 0;
  const dropIndexes = async (keep: (def: string) => boolean) => {
    for (const { indexname, indexdef } of await sql<{ indexname: string; indexdef: string }[]>`
      select indexname, indexdef from pg_indexes where tablename = 'tasks' and indexname <> 'tasks_pkey'`)
      if (!keep(indexdef)) await sql.unsafe(`drop index ${indexname}`);
    await sql`vacuum tasks`;
  };
  /** Columns some transition writes: an index on one (or a predicate over one) makes the update non-HOT. */
  const CHANGING = /status|assignee|deadline|completed_at|queued_at|start_by/;
  const select1 = await perCall(rows, () => sql`select 1`);
  await sql`create table bench_plain (id uuid primary key, status text, result jsonb)`;
  const plain = await perCall(rows, () => sql`insert into bench_plain (id, status) values (${randomUUID()}, 'assigned')`);
  // The row built from its JSON and nothing inserted: what jsonb_populate_record and the statement cost.
  const populate = await perCall(
    rows,
    () => sql`insert into tasks select * from jsonb_populate_record(null::tasks, ${sql.json(row(randomUUID()) as never)}::jsonb) where false`,
  );
  console.log(
    `Postgres backend CPU per statement, µs (${rows} each): select 1 ${select1.toFixed(0)}; a 3-column insert (primary key only) ${plain.toFixed(0)}; a tasks row populated from its JSON, not inserted ${populate.toFixed(0)}\n`,
  );
  console.log('| tasks | insert µs | update µs | updates HOT |\n| --- | --- | --- | --- |');
  const n = (await sql<{ n: number }[]>`select count(*)::int as n from pg_indexes where tablename = 'tasks'`)[0]!.n;
  await lifecycle(`warm-up (${n} indexes)`);
  await lifecycle(`${n} indexes`);
  await lifecycle(`${n} indexes, again`);
  await dropIndexes((def) => !CHANGING.test(def.replace(/^.* USING /, '')));
  await sql`alter table tasks set (fillfactor = 70)`;
  const kept = (await sql<{ n: number }[]>`select count(*)::int as n from pg_indexes where tablename = 'tasks'`)[0]!.n;
  await lifecycle(`${kept} indexes on columns no transition changes, fillfactor 70`);
  await lifecycle(`${kept} indexes on columns no transition changes, fillfactor 70, again`);
  await dropIndexes(() => false);
  await lifecycle('primary key only');
  await lifecycle('primary key only, again');
  // The one-column CHECKs: as the schema has them since migration 0068 (domains, checked from the
  // type cache), as table constraints (before it: prepared from each constraint's stored text for
  // every statement), and not at all. The two-column one (tasks_assignee_check) stays throughout.
  const domains = await sql<{ domain: string; conname: string; column: string; def: string }[]>`
    select t.typname as domain, c.conname, a.attname as column, pg_get_constraintdef(c.oid) as def
    from pg_constraint c join pg_type t on t.oid = c.contypid
    join pg_attribute a on a.attrelid = 'tasks'::regclass and a.atttypid = t.oid and not a.attisdropped`;
  const asTable = (column: string, def: string) => def.replace(/\bVALUE\b/g, column);
  for (const d of domains) {
    await sql.unsafe(`alter domain ${d.domain} drop constraint ${d.conname}`);
    await sql.unsafe(`alter table tasks add constraint tasks_${d.column}_check ${asTable(d.column, d.def)}`);
  }
  await lifecycle(`primary key only, ${domains.length} one-column CHECKs as table constraints (before migration 0068)`);
  await lifecycle(`primary key only, ${domains.length} one-column CHECKs as table constraints, again`);
  for (const d of domains) await sql.unsafe(`alter table tasks drop constraint tasks_${d.column}_check`);
  await lifecycle('primary key only, no one-column CHECKs');
  await lifecycle('primary key only, no one-column CHECKs, again');
});
