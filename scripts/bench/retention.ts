// Retention scenario (Dispatch only, issue #17; `--retention-tasks N`, `--retention-only`): one
// database, one nats-server, Dispatch as its own process, simulated workers on NATS.
//   1. bytes per lifecycle: an open loop at 200 tasks/s for `--retention-window-s` (create →
//      assigned → completed through the API), then (tasks + task_events + deliveries, indexes
//      included) / lifecycles, as written and live (lib/storage.ts);
//   2. N finished tasks seeded with SQL (generate_series), each a copy of one real lifecycle of
//      step 1 (row and events, published), completed 60 days ago; the open loop's latency with
//      them in the table and no purge (Dispatch with retention.finished_task_ms 0), then Dispatch
//      restarted with the default 30-day retention and a 1 s sweep interval: the open loop runs
//      until the purge has deleted all N (dispatch_retention_deleted_total, polled every 250 ms);
//      latency of the tasks sent while the purge ran, and the purge's rows/s;
//   3. the partitioning question (docs/retention.md): the same N tasks' events in a scratch copy
//      of task_events, deleted in the purge's batches (500 tasks per statement, then VACUUM), and
//      in a scratch partitioned copy, dropped as one partition: time and WAL bytes
//      (pg_current_wal_lsn() differences) of each.
import { Pool } from 'undici';
import { connect, migrate, type Sql } from '../../src/store/db.js';
import { BATCH } from '../../src/services/retention.js';
import { startNatsServer } from '../../test/helpers/nats-server.js';
import { sleep, waitFor } from './lib/child.js';
import { startDispatch, type DispatchProc } from './lib/dispatch-proc.js';
import { LatencyRecorder, wallMs, type LatencySummary } from './lib/latency.js';
import { openLoop } from './lib/open-loop.js';
import { printStatements, resetStatements } from './lib/pg-stats.js';
import type { BenchPostgres } from './lib/postgres.js';
import { histogramDelta, scrape, type HistogramDelta, type Scrape } from './lib/prom.js';
import { formatBytes, lifecycleBytes, type StorageBytes } from './lib/storage.js';
import { fmt, markdownTable } from './lib/table.js';
import { startWorkers } from './lib/workers.js';

const DB = 'bench_retention';
const DAY = 86_400_000;
const TICK = 'dispatch_tick_duration_seconds';
/** Not counted at the start of a window: a fresh Dispatch warming up. */
const WARMUP_MS = 10_000;

export interface RetentionBenchOptions {
  tasks: number;
  windowMs: number;
  maxPurgeMs: number;
  /** retention.busy_fraction of the purging Dispatch (Dispatch's default when absent). */
  busyFraction?: number;
  agents: number;
  maxConcurrent: number;
  tickMs: number;
  rate?: number;
  log?: (m: string) => void;
}

export interface LoadFigures {
  sent: number;
  completed: number;
  /** Tasks not assigned when the wait ended: counted as (end − sent), a lower bound. */
  censored: number;
  createHttp: LatencySummary;
  toAssigned: LatencySummary;
  /** Scheduler passes in the window (dispatch_tick_duration_seconds; quantiles are bucket bounds). */
  tick?: HistogramDelta;
  errors: string[];
}

export interface WalCost {
  ms: number;
  walBytes: number;
}

export interface RetentionBenchResult {
  rate: number;
  bytes: StorageBytes;
  liveBytes: StorageBytes;
  seeded: number;
  seedS: number;
  eventsPerTask: number;
  /** The four tables' size with the N finished tasks in them. */
  seededBytes: StorageBytes;
  baseline: LoadFigures;
  during: LoadFigures;
  purge: { tasks: number; events: number; seconds: number; done: boolean; tasksPerS: number; eventsPerS: number; busyFraction: number };
  partition: { events: number; batch: number; batchedDelete: WalCost; vacuum: WalCost; dropPartition: WalCost };
}

export interface Sample {
  sentAt: number;
  createMs?: number;
  assignedAt?: number;
}

export interface LoadRun {
  samples: Sample[];
  completed: number;
  errors: string[];
}

/** The open loop of scripts/bench/dispatch.ts (lib/open-loop.ts), with workers on NATS completing each task. */
export async function runLoad(d: DispatchProc, natsUrl: string, rate: number, maxMs: number, until?: () => boolean): Promise<LoadRun> {
  const samples: Sample[] = [];
  const workers = await startWorkers({
    natsUrl,
    apiUrl: d.apiUrl,
    onAssigned: (e) => {
      const i = e.task.context?.bench_i;
      const s = typeof i === 'number' ? samples[i] : undefined;
      if (s && s.assignedAt === undefined && e.task.assigned_at) s.assignedAt = Date.parse(e.task.assigned_at);
    },
  });
  const http = new Pool(d.apiUrl, { connections: 64, pipelining: 1 });
  await sleep(500);
  const r = await openLoop({
    rate,
    durationMs: maxMs,
    ...(until ? { until } : {}),
    send: async (k) => {
      const s: Sample = { sentAt: wallMs() };
      samples[k] = s;
      const res = await http.request({
        method: 'POST',
        path: '/api/v1/tasks',
        headers: { 'x-agent-id': `bench-producer-${k % 16}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `bench ${k}`, capabilities: ['bench'], context: { bench_i: k } }),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      await res.body.dump();
      if (res.statusCode !== 201) throw new Error(`create → ${res.statusCode}`);
      s.createMs = wallMs() - s.sentAt;
    },
  });
  const created = () => samples.filter((s) => s.createMs !== undefined).length;
  await waitFor(() => workers.completed >= created(), 60_000);
  const completed = workers.completed;
  await workers.close();
  await http.close();
  return { samples, completed, errors: [...r.errors, ...[...workers.refusals].map(([s, c]) => `complete → ${s} ×${c}`)] };
}

/** Latency of the tasks sent within [from, to] (wall ms). */
export function figures(run: LoadRun, from = -Infinity, to = Infinity): LoadFigures {
  const createHttp = new LatencyRecorder();
  const toAssigned = new LatencyRecorder();
  const cut = wallMs();
  let sent = 0;
  let censored = 0;
  for (const s of run.samples) {
    if (!s || s.sentAt < from || s.sentAt > to) continue;
    sent++;
    if (s.createMs !== undefined) createHttp.add(s.createMs);
    if (s.assignedAt !== undefined) toAssigned.add(s.assignedAt - s.sentAt);
    else {
      censored++;
      toAssigned.add(cut - s.sentAt);
    }
  }
  return { sent, completed: run.completed, censored, createHttp: createHttp.summary(), toAssigned: toAssigned.summary(), errors: run.errors };
}

/** What a replica looked like at one scrape: the outbox backlog, the live depths, the ticks so far. */
export interface ReplicaSample {
  at: number;
  unpublished: number;
  pending: number;
  active: number;
  ticks: number;
  tickS: number;
}

/** Scrape `opsUrl`/metrics every 250 ms into a timeline (and hand each scrape to `onScrape`) until stop(). */
export function watchReplica(opsUrl: string, onScrape?: (m: Scrape, now: number) => void): { timeline: ReplicaSample[]; stop(): Promise<void> } {
  const timeline: ReplicaSample[] = [];
  let on = true;
  const done = (async () => {
    while (on) {
      const m = await scrape(`${opsUrl}/metrics`).catch(() => undefined);
      const now = wallMs();
      if (m) {
        timeline.push({
          at: now,
          unpublished: m.get('dispatch_events_unpublished') ?? NaN,
          pending: m.get('dispatch_queue_depth{status="pending"}') ?? NaN,
          active: (m.get('dispatch_queue_depth{status="assigned"}') ?? 0) + (m.get('dispatch_queue_depth{status="running"}') ?? 0),
          ticks: m.get(`${TICK}_count`) ?? 0,
          tickS: m.get(`${TICK}_sum`) ?? 0,
        });
        onScrape?.(m, now);
      }
      await sleep(250);
    }
  })();
  return {
    timeline,
    stop: async () => {
      on = false;
      await done;
    },
  };
}

/** Each minute (or `stepMs`) of [from, end): the open loop's latencies and the replica's backlog, depths and ticks. */
export function logMinutes(run: LoadRun, timeline: ReplicaSample[], from: number, end: number, log: (m: string) => void, stepMs = 60_000): void {
  for (let at = from; at < end; at += stepMs) {
    const to = Math.min(end, at + stepMs);
    const m = figures(run, at, to);
    const tl = timeline.filter((x) => x.at >= at && x.at < to);
    const max = (k: 'unpublished' | 'pending' | 'active') => Math.max(...tl.map((x) => x[k]));
    const ticks = tl.length > 1 ? tl.at(-1)!.ticks - tl[0]!.ticks : NaN;
    const tickMs = tl.length > 1 ? (1000 * (tl.at(-1)!.tickS - tl[0]!.tickS)) / ticks : NaN;
    log(
      `  ${stepMs === 60_000 ? `minute ${Math.round((at - from) / 60_000)}` : `${Math.round((at - from) / 1000)} s`}: ${m.sent} sent, create p99 ${fmt(m.createHttp.p99)} ms, ` +
        `create→assigned p50 ${fmt(m.toAssigned.p50)} / p99 ${fmt(m.toAssigned.p99)} / max ${fmt(m.toAssigned.max)} ms; ` +
        `max unpublished ${max('unpublished')}, pending ${max('pending')}, active ${max('active')}; ${ticks} ticks, mean ${fmt(tickMs)} ms`,
    );
  }
}

/**
 * `n` finished tasks, each a copy of the lifecycle of task `template` (its row and its events,
 * published), completed `ageMs` ago — with generate_series, in chunks, tasks and events in one
 * statement per chunk (as lib/seed.ts seeds pending tasks).
 */
export async function seedFinished(sql: Sql, n: number, template: string, ageMs: number): Promise<void> {
  const base = new Date(Date.now() - ageMs);
  const CHUNK = 20_000;
  // Seeded history is not a track record (no trigger records it since migration 0023), and its
  // events are not queued for publishing (long published; no trigger queues them since 0022):
  // queueing then deleting 3 rows per task would leave the small queue table with millions of dead
  // rows, which a system that published them over a month never has (the first run of this bench
  // measured that bloat).
  await seedChunks(sql, n, template, base, CHUNK);
}

async function seedChunks(sql: Sql, n: number, template: string, base: Date, CHUNK: number): Promise<void> {
  for (let lo = 0; lo < n; lo += CHUNK) {
    const hi = Math.min(n, lo + CHUNK) - 1;
    await sql`
      with src as (select * from tasks where id = ${template}),
      ins as (
        insert into tasks (id, title, requester, capabilities, required_tags, priority, status, assignee, context, result,
                           timeout_ms, max_retries, retry_count, attempt, queued_at, created_at, updated_at, assigned_at,
                           started_at, completed_at)
        select gen_random_uuid(), 'seed ' || g, s.requester, s.capabilities, s.required_tags, s.priority, s.status,
               s.assignee, jsonb_build_object('bench_i', -1 - g), s.result, s.timeout_ms, s.max_retries, 0, s.attempt,
               t, t, t, t, t, t + interval '10 milliseconds'
        from src s, generate_series(${lo}::int, ${hi}::int) g, lateral (select ${base}::timestamptz + g * interval '1 millisecond' as t) x
        returning id, completed_at
      )
      insert into task_events (id, task_id, type, envelope, created_at, kind)
      select gen_random_uuid(), ins.id, e.type, e.envelope, ins.completed_at, e.kind
      from ins cross join (select type, envelope, kind, seq from task_events where task_id = ${template}) e
      order by ins.completed_at, e.seq`;
  }
}

async function walLsn(sql: Sql): Promise<string> {
  const [r] = await sql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`;
  return r!.lsn;
}

async function measure(sql: Sql, fn: () => Promise<void>): Promise<WalCost> {
  const a = await walLsn(sql);
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  const b = await walLsn(sql);
  const [r] = await sql<{ d: string }[]>`select pg_wal_lsn_diff(${b}::pg_lsn, ${a}::pg_lsn)::text as d`;
  return { ms, walBytes: Number(r!.d) };
}

/**
 * Batched deletes against dropping a partition, for the events of `tasks` tasks (each with the
 * events of `template`): a scratch copy of task_events (same indexes) and a scratch partitioned
 * copy (by created_at, the events in one old partition). Dropped afterwards.
 */
export async function partitionComparison(sql: Sql, tasks: number, template: string, batch = BATCH): Promise<RetentionBenchResult['partition']> {
  await sql.unsafe(`
    drop table if exists scratch_flat, scratch_part, scratch_tasks;
    create table scratch_flat (like task_events including defaults including indexes including constraints);
    create table scratch_part (like task_events including defaults including constraints) partition by range (created_at);
    alter table scratch_part add primary key (seq, created_at);
    create index on scratch_part (task_id, seq);
    create index on scratch_part using brin (created_at);
    create table scratch_part_old partition of scratch_part for values from (minvalue) to ('2000-01-01');
    create table scratch_part_new partition of scratch_part for values from ('2000-01-01') to (maxvalue);
    create table scratch_tasks (n int primary key, id uuid not null)`);
  await sql`insert into scratch_tasks select g, gen_random_uuid() from generate_series(1, ${tasks}::int) g`;
  const CHUNK = 20_000;
  for (const table of ['scratch_flat', 'scratch_part']) {
    for (let lo = 1; lo <= tasks; lo += CHUNK) {
      await sql`
        insert into ${sql(table)} (id, task_id, type, envelope, created_at, kind)
        select gen_random_uuid(), s.id, e.type, e.envelope, t, e.kind
        from scratch_tasks s cross join (select type, envelope, kind, seq from task_events where task_id = ${template}) e,
             lateral (select timestamptz '1999-01-01' + s.n * interval '1 millisecond' as t) x
        where s.n between ${lo} and ${lo + CHUNK - 1}
        order by s.n, e.seq`;
    }
  }
  await sql`vacuum analyze scratch_flat`;
  await sql`vacuum analyze scratch_part`;
  await sql`checkpoint`;
  const [{ events }] = (await sql`select count(*)::int as events from scratch_flat`) as unknown as [{ events: number }];
  const batchedDelete = await measure(sql, async () => {
    for (let lo = 1; lo <= tasks; lo += batch) {
      await sql`delete from scratch_flat e using scratch_tasks s where s.n between ${lo} and ${lo + batch - 1} and e.task_id = s.id`;
    }
  });
  const vacuum = await measure(sql, async () => {
    await sql`vacuum scratch_flat`;
  });
  await sql`checkpoint`;
  const dropPartition = await measure(sql, async () => {
    await sql`alter table scratch_part detach partition scratch_part_old`;
    await sql`drop table scratch_part_old`;
  });
  await sql.unsafe('drop table if exists scratch_flat, scratch_part, scratch_tasks');
  return { events, batch, batchedDelete, vacuum, dropPartition };
}

export async function runRetentionBench(pg: BenchPostgres, o: RetentionBenchOptions): Promise<RetentionBenchResult> {
  const log = o.log ?? ((m: string) => console.error(m));
  const rate = o.rate ?? 200;
  const url = await pg.createDatabase(DB);
  const sql = connect(url, { max: 2 });
  await migrate(sql);
  const nats = await startNatsServer();
  const proc = (retention: Record<string, unknown>) =>
    startDispatch({ databaseUrl: url, natsUrl: nats.url, agents: o.agents, maxConcurrent: o.maxConcurrent, tickMs: o.tickMs, extra: { retention } });
  try {
    // 1. Bytes per lifecycle, over real lifecycles through the API (no purge).
    log(`[retention] ${rate} tasks/s for ${o.windowMs / 1000} s, then bytes per lifecycle`);
    let d = await proc({ finished_task_ms: 0 });
    const first = await runLoad(d, nats.url, rate, o.windowMs);
    await waitFor(async () => (await sql`select 1 from task_events_unpublished limit 1`).length === 0, 30_000);
    const bytes = await lifecycleBytes(sql, first.completed);
    await d.stop(); // VACUUM FULL takes exclusive locks
    const liveBytes = await lifecycleBytes(sql, first.completed, { live: true });
    log(`[retention] ${formatBytes(bytes)}; ${formatBytes(liveBytes)}`);
    const [tmpl] = await sql<{ id: string }[]>`select id from tasks where status = 'completed' order by completed_at limit 1`;
    const template = tmpl!.id;
    const [{ n: eventsPerTask }] = (await sql`select count(*)::int as n from task_events where task_id = ${template}`) as unknown as [{ n: number }];

    // 2. N finished tasks, 60 days old; the open loop without and with the purge.
    log(`[retention] seeding ${o.tasks} finished tasks (${eventsPerTask} events each)`);
    const tSeed = performance.now();
    await seedFinished(sql, o.tasks, template, 60 * DAY);
    // A month's finished tasks have been vacuumed along the way (hint bits set, visibility map
    // filled); without this the baseline measures autovacuum's first pass over a bulk load.
    await sql`vacuum analyze tasks`;
    await sql`vacuum analyze task_events`;
    const seedS = (performance.now() - tSeed) / 1000;
    const seededBytes = await lifecycleBytes(sql, o.tasks + first.completed);
    log(`[retention] seeded in ${fmt(seedS)} s; ${formatBytes(seededBytes)}`);

    log(`[retention] baseline: ${rate} tasks/s for ${(WARMUP_MS + o.windowMs) / 1000} s (the first ${WARMUP_MS / 1000} s not counted), no purge`);
    d = await proc({ finished_task_ms: 0 });
    await resetStatements(url);
    // A fresh Dispatch is slow for its first seconds (V8 warming up: create→assigned p50 ~200-500 ms
    // in the first 5 s, on an empty table too); the window starts after that.
    let b0: Scrape | undefined;
    const warm = setTimeout(() => void scrape(`${d.opsUrl}/metrics`).then((m) => (b0 = m)), WARMUP_MS + 500);
    const baseRun = await runLoad(d, nats.url, rate, WARMUP_MS + o.windowMs);
    clearTimeout(warm);
    const baseStart = (baseRun.samples.find(Boolean)?.sentAt ?? 0) + WARMUP_MS;
    const baseline = { ...figures(baseRun, baseStart), ...(b0 ? { tick: histogramDelta(b0, await scrape(`${d.opsUrl}/metrics`), TICK) } : {}) };
    await printStatements(url, DB, baseRun.completed, log, 'time');
    await d.stop();

    log(`[retention] purge of ${o.tasks} finished tasks under ${rate} tasks/s (at most ${o.maxPurgeMs / 1000} s)`);
    // The first sweep one interval after start: after the warm-up, so the window is the purge's.
    d = await proc({
      finished_task_ms: 30 * DAY,
      sweep_interval_ms: WARMUP_MS,
      ...(o.busyFraction !== undefined ? { busy_fraction: o.busyFraction } : {}),
    });
    await resetStatements(url);
    let purgeStart = 0;
    let purgeEnd = 0;
    let lastZero = wallMs();
    let deleted = { tasks: 0, events: 0 };
    let atStart: Scrape | undefined;
    let atEnd: Scrape | undefined;
    let lastZeroScrape: Scrape | undefined;
    const opsUrl = d.opsUrl;
    const watch = watchReplica(opsUrl, (m, now) => {
      deleted = {
        tasks: m.get('dispatch_retention_deleted_total{kind="tasks"}') ?? 0,
        events: m.get('dispatch_retention_deleted_total{kind="events"}') ?? 0,
      };
      if (deleted.tasks === 0) {
        lastZero = now;
        lastZeroScrape = m;
      } else if (!purgeStart) {
        purgeStart = lastZero;
        atStart = lastZeroScrape;
      }
      if (deleted.tasks >= o.tasks && !purgeEnd) {
        purgeEnd = now;
        atEnd = m;
      }
    });
    const t0 = wallMs();
    const purgeRun = await runLoad(d, nats.url, rate, o.maxPurgeMs, () => purgeEnd > 0 || wallMs() - t0 > o.maxPurgeMs);
    await watch.stop();
    const end = purgeEnd || wallMs();
    atEnd ??= await scrape(`${opsUrl}/metrics`);
    const during = { ...figures(purgeRun, purgeStart || t0, end), ...(atStart ? { tick: histogramDelta(atStart, atEnd, TICK) } : {}) };
    const seconds = (end - (purgeStart || t0)) / 1000;
    const purge = {
      tasks: deleted.tasks,
      events: deleted.events,
      seconds,
      done: purgeEnd > 0,
      tasksPerS: deleted.tasks / seconds,
      eventsPerS: deleted.events / seconds,
      busyFraction: o.busyFraction ?? 0.25,
    };
    log(`[retention] purge: ${purge.tasks} tasks, ${purge.events} events in ${fmt(seconds)} s${purge.done ? '' : ' (not finished)'}`);
    // Where in the purge the slow tasks were: each minute's figures.
    logMinutes(purgeRun, watch.timeline, purgeStart || t0, end, log);
    await printStatements(url, DB, purgeRun.completed, log, 'time');
    await d.stop();

    // 3. Batched deletes against dropping a partition.
    log(`[retention] partitioning: the events of ${o.tasks} tasks deleted in batches of ${BATCH} tasks vs one partition dropped`);
    const partition = await partitionComparison(sql, o.tasks, template);

    return { rate, bytes, liveBytes, seeded: o.tasks, seedS, eventsPerTask, seededBytes, baseline, during, purge, partition };
  } finally {
    await sql.end();
    await nats.stop();
    await pg.dropDatabase(DB);
  }
}

export function retentionTable(r: RetentionBenchResult): string {
  const lat = (f: LoadFigures) => {
    const lb = f.censored > 0 ? '≥' : '';
    return [
      f.sent,
      `${fmt(f.createHttp.p50)} / ${fmt(f.createHttp.p99)}`,
      `${lb}${fmt(f.toAssigned.p50)} / ${lb}${fmt(f.toAssigned.p99)} / ${lb}${fmt(f.toAssigned.max)}`,
      f.tick ? `${f.tick.count}: ${fmt(f.tick.meanMs)} / ≤ ${fmt(f.tick.p99Ms)}` : '–',
      f.errors.join('; ') || '–',
    ];
  };
  const load = markdownTable(
    ['open loop ' + r.rate + '/s', 'tasks sent', 'create HTTP p50/p99 ms', 'create→assigned p50/p99/max ms', 'ticks: mean / p99 ms', 'errors'],
    [
      [`${r.seeded} finished tasks in the table, no purge`, ...lat(r.baseline)],
      [`while the purge of those ${r.seeded} runs`, ...lat(r.during)],
    ],
  );
  const p = r.partition;
  const part = markdownTable(
    ['removing ' + p.events + ' event rows', 'ms', 'WAL bytes', 'WAL bytes/row'],
    [
      [`delete in batches of ${p.batch} tasks`, fmt(p.batchedDelete.ms, 0), p.batchedDelete.walBytes, fmt(p.batchedDelete.walBytes / p.events, 1)],
      ['then VACUUM', fmt(p.vacuum.ms, 0), p.vacuum.walBytes, fmt(p.vacuum.walBytes / p.events, 1)],
      ['detach + drop one partition', fmt(p.dropPartition.ms, 0), p.dropPartition.walBytes, fmt(p.dropPartition.walBytes / p.events, 3)],
    ],
  );
  return [
    `Bytes per lifecycle (${r.bytes.lifecycles} lifecycles at ${r.rate}/s: created, assigned, completed): ${formatBytes(r.bytes)}; ${formatBytes(r.liveBytes)}`,
    `Seeded ${r.seeded} finished tasks (${r.eventsPerTask} events each) in ${fmt(r.seedS)} s: ${formatBytes(r.seededBytes)}`,
    `Purge (retention.busy_fraction ${r.purge.busyFraction}): ${r.purge.tasks} tasks + ${r.purge.events} events in ${fmt(r.purge.seconds)} s${r.purge.done ? '' : ' (NOT finished: capped)'} = ` +
      `${fmt(r.purge.tasksPerS, 0)} tasks/s, ${fmt(r.purge.eventsPerS, 0)} events/s`,
    '',
    load,
    '',
    part,
  ].join('\n');
}
