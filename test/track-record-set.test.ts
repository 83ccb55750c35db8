// The track record (§16.4) as migration 0066 keeps it: dispatch_record_outcome_set adds a
// statement's outcomes to each agent's running totals and inserts each outcome with the totals
// before it; agentRecords reads an agent's window as the latest totals minus the totals before
// the window's oldest outcome; the retention sweep's trimTrackRecord deletes what lies outside the
// window. Whatever the batches, the windows set between them and the trims, the record read must be
// the totals of the agent's last N outcomes (N: the window set when it is read) among those no
// trim has removed — computed here from the outcomes themselves.
import { randomUUID } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toRecord } from '../src/core/record.js';
import { migrate, MIGRATIONS_DIR } from '../src/store/db.js';
import { agentRecords, recordOutcomes } from '../src/store/fairness.js';
import { trimTrackRecord } from '../src/store/retention.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

type Outcome = { agent: string; outcome: 'completed' | 'failed' | 'timed_out'; ms: number };

/** The record of `kept` (an agent's outcomes, oldest first) over a window of `n`. */
function expected(kept: Outcome[], n: number) {
  const w = kept.slice(-n);
  const completed = w.filter((o) => o.outcome === 'completed');
  return toRecord({
    completed: completed.length,
    failed: w.filter((o) => o.outcome === 'failed').length,
    timed_out: w.filter((o) => o.outcome === 'timed_out').length,
    completed_ms: completed.reduce((s, o) => s + o.ms, 0),
  });
}

describe('the track record: running totals, a window read, trims (migration 0066)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const setWindow = (n: number) =>
    db.sql`insert into dispatch_settings (name, value) values ('track_record_size', ${n})
           on conflict (name) do update set value = excluded.value`;

  it('reads each agent’s last N outcomes among those kept, whatever the batches, windows and trims', async () => {
    const outcome = fc.record({
      agent: fc.constantFrom('a', 'b', 'c'),
      outcome: fc.constantFrom('completed' as const, 'failed' as const, 'timed_out' as const),
      ms: fc.integer({ min: 0, max: 5000 }),
    });
    // Batches of outcomes, each with the window in force when it is written, some followed by a trim.
    const batches = fc.array(fc.record({ window: fc.integer({ min: 1, max: 4 }), outcomes: fc.array(outcome, { maxLength: 7 }), trim: fc.boolean() }), {
      minLength: 1,
      maxLength: 6,
    });
    let run = 0;
    let trimmed = 0;
    await fc.assert(
      fc.asyncProperty(batches, fc.integer({ min: 1, max: 6 }), async (bs, readWindow) => {
        run++;
        const p = `set${run}:`;
        const kept = new Map<string, Outcome[]>();
        for (const b of bs) {
          await setWindow(b.window);
          const [r] = await db.sql<{ n: number }[]>`
            select dispatch_record_outcome_set(${b.outcomes.map((o) => p + o.agent)}::text[], ${b.outcomes.map((o) => o.outcome)}::text[],
                                               ${b.outcomes.map((o) => o.ms)}::float8[]) as n`;
          expect(r!.n).toBe(b.outcomes.length);
          for (const o of b.outcomes) kept.set(o.agent, [...(kept.get(o.agent) ?? []), o]);
          if (b.trim) {
            // A trim removes each agent's outcomes older than the window set now (a small batch:
            // the sweep's statements are bounded; it runs until one comes back short).
            while ((await trimTrackRecord(db.sql, 2)) >= 2);
            for (const [agent, os] of kept) {
              if (os.length > b.window) trimmed++;
              kept.set(agent, os.slice(-b.window));
            }
          }
        }
        await setWindow(readWindow);
        const records = await agentRecords(db.sql);
        for (const agent of ['a', 'b', 'c']) {
          const os = kept.get(agent);
          if (!os) {
            expect(records.has(p + agent)).toBe(false);
            continue;
          }
          const got = records.get(p + agent)!;
          const want = expected(os, readWindow);
          expect({ ...got, avg_duration_ms: null }).toEqual({ ...want, avg_duration_ms: null });
          if (want.avg_duration_ms === null) expect(got.avg_duration_ms).toBeNull();
          else expect(got.avg_duration_ms).toBeCloseTo(want.avg_duration_ms, 0);
          // The rows are exactly those no trim removed.
          const [rows] = await db.sql<{ n: number }[]>`select count(*)::int as n from agent_outcomes where agent = ${p + agent}`;
          expect(rows!.n).toBe(os.length);
        }
      }),
      { numRuns: 40, seed: 66 },
    );
    // The windows were small enough that trims removed outcomes, so the reads covered them.
    expect(trimmed).toBeGreaterThan(5);
  });

  it('numbers two batches of one agent without a gap when they run at once', async () => {
    await setWindow(100);
    const many = (n: number, outcome: string) => ({ agents: Array(n).fill('race:x'), outcomes: Array(n).fill(outcome), ms: Array(n).fill(10) });
    const one = many(20, 'completed');
    const two = many(30, 'failed');
    await Promise.all(
      [one, two].map((b) => db.sql.begin((tx) => tx`select dispatch_record_outcome_set(${b.agents}::text[], ${b.outcomes}::text[], ${b.ms}::float8[])`)),
    );
    const seqs = await db.sql<{ seq: number }[]>`select seq::int as seq from agent_outcomes where agent = 'race:x' order by seq`;
    expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await agentRecords(db.sql)).get('race:x')).toEqual(toRecord({ completed: 20, failed: 30, timed_out: 0, completed_ms: 200 }));
  });

  it("one outcome recorded in a report's statement (recordOutcomes, two CTEs) leaves the rows the set function leaves", async () => {
    const outcome = fc.record({
      agent: fc.constantFrom('a', 'b'),
      outcome: fc.constantFrom('completed' as const, 'failed' as const, 'timed_out' as const),
      ms: fc.integer({ min: 0, max: 5000 }),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(outcome, { minLength: 1, maxLength: 10 }), async (os) => {
        run++;
        const [one, set] = [`cte${run}:`, `fn${run}:`];
        for (const o of os) {
          const taskId = randomUUID();
          const rec = recordOutcomes(db.sql, [{ taskId, agent: one + o.agent, outcome: o.outcome, durationMs: o.ms }], db.sql`select id from w`);
          await db.sql`with w as (select ${taskId}::uuid as id) ${rec.cte} select 1 as done ${rec.ref}`;
          await db.sql`select dispatch_record_outcome_set(${[set + o.agent]}::text[], ${[o.outcome]}::text[], ${[o.ms]}::float8[])`;
        }
        const rows = async (prefix: string) => ({
          records: await db.sql`
            select substr(agent, ${prefix.length + 1}) as agent, seq, completed, failed, timed_out, completed_ms
            from agent_records where starts_with(agent, ${prefix}) order by agent`,
          outcomes: await db.sql`
            select substr(agent, ${prefix.length + 1}) as agent, seq, outcome, duration_ms, before_completed, before_failed, before_timed_out, before_ms
            from agent_outcomes where starts_with(agent, ${prefix}) order by agent, seq`,
        });
        const got = await rows(one);
        expect(got.outcomes).toHaveLength(os.length);
        expect(got).toEqual(await rows(set));
      }),
      { numRuns: 25, seed: 70 },
    );
    // The write that lost its compare-and-set records nothing.
    const rec = recordOutcomes(db.sql, [{ taskId: randomUUID(), agent: 'lost:x', outcome: 'completed', durationMs: 5 }], db.sql`select id from w`);
    await db.sql`with w as (select ${randomUUID()}::uuid as id) ${rec.cte} select 1 as done ${rec.ref}`;
    expect(await db.sql`select 1 from agent_records where agent = 'lost:x' union all select 1 from agent_outcomes where agent = 'lost:x'`).toHaveLength(0);
  });

  it('the one-outcome form of 0023 writes the same rows', async () => {
    await setWindow(2);
    for (const o of ['completed', 'failed', 'completed']) await db.sql`select dispatch_record_outcome('single:x', ${o}, 40)`;
    expect((await agentRecords(db.sql)).get('single:x')).toEqual(toRecord({ completed: 1, failed: 1, timed_out: 0, completed_ms: 40 }));
  });

  it('records nothing for an empty or null set', async () => {
    const [r] = await db.sql<{ a: number; b: number }[]>`
      select dispatch_record_outcome_set('{}'::text[], '{}'::text[], '{}'::float8[]) as a,
             dispatch_record_outcome_set(null, null, null) as b`;
    expect(r).toEqual({ a: 0, b: 0 });
  });

  it('an upgrade keeps each record: the rows kept get the totals before them (0065 → 0066)', async () => {
    const old = await createTestDatabase({ template: null });
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-0065-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      for (const f of readdirSync(dir)) if (/^(\d{4})_/.test(f) && Number(f.slice(0, 4)) >= 66) unlinkSync(path.join(dir, f));
      await migrate(old.sql, undefined, dir);
      await old.sql`insert into dispatch_settings (name, value) values ('track_record_size', 3)
                    on conflict (name) do update set value = excluded.value`;
      const written: Outcome[] = [];
      for (let i = 0; i < 7; i++) {
        const o: Outcome = { agent: i % 2 ? 'u:a' : 'u:b', outcome: (['completed', 'failed', 'timed_out', 'completed'] as const)[i % 4]!, ms: 100 * i };
        written.push(o);
        await old.sql`select dispatch_record_outcome_set(${[o.agent]}::text[], ${[o.outcome]}::text[], ${[o.ms]}::float8[])`;
      }
      const before = await old.sql<{ agent: string; completed: number; failed: number; timed_out: number; completed_ms: number }[]>`
        select agent, completed, failed, timed_out, completed_ms from agent_records order by agent`;
      expect(before).toHaveLength(2);
      expect(await migrate(old.sql)).toContain('0066_track_record_running_totals.sql');
      const after = await agentRecords(old.sql);
      for (const r of before) expect(after.get(r.agent)).toEqual(toRecord(r));
      // And on from there: one more outcome each, read over the same window.
      for (const agent of ['u:a', 'u:b']) {
        const o: Outcome = { agent, outcome: 'completed', ms: 1000 };
        written.push(o);
        await old.sql`select dispatch_record_outcome_set(${[agent]}::text[], ${['completed']}::text[], ${[1000]}::float8[])`;
      }
      const next = await agentRecords(old.sql);
      for (const agent of ['u:a', 'u:b']) {
        const got = next.get(agent)!;
        const want = expected(
          written.filter((o) => o.agent === agent),
          3,
        );
        expect({ ...got, avg_duration_ms: Math.round(got.avg_duration_ms ?? -1) }).toEqual({
          ...want,
          avg_duration_ms: Math.round(want.avg_duration_ms ?? -1),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await old.drop();
    }
  });
});
