// Migration 0062: a statement's outcomes go into the track record with one call of
// dispatch_record_outcome_set instead of one dispatch_record_outcome call each. Whatever the
// batches, the ring (agent_outcomes) and the summaries (agent_records) must end exactly as the
// one-by-one calls leave them — including a batch that holds more of one agent's outcomes than
// its window, and a window lowered between batches.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

type Outcome = { agent: string; outcome: 'completed' | 'failed' | 'timed_out'; ms: number };

describe('dispatch_record_outcome_set (migration 0062)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** Both tables, with the agents' prefix `p` taken off, in a stable order. */
  async function state(p: string) {
    const records = await db.sql<Record<string, unknown>[]>`
      select substr(agent, ${p.length + 1}) as agent, seq::int as seq, completed, failed, timed_out, round(completed_ms::numeric, 6)::float8 as completed_ms
      from agent_records where agent like ${p + '%'} order by agent`;
    const ring = await db.sql<Record<string, unknown>[]>`
      select substr(agent, ${p.length + 1}) as agent, seq::int as seq, outcome, duration_ms
      from agent_outcomes where agent like ${p + '%'} order by agent, seq`;
    return { records, ring };
  }

  it('leaves the ring and the summaries as one call per outcome does, whatever the batches', async () => {
    const outcome = fc.record({
      agent: fc.constantFrom('a', 'b', 'c'),
      outcome: fc.constantFrom('completed' as const, 'failed' as const, 'timed_out' as const),
      ms: fc.integer({ min: 0, max: 5000 }),
    });
    // Batches of outcomes, each with the window size in force when it is written.
    const batches = fc.array(fc.record({ window: fc.integer({ min: 1, max: 4 }), outcomes: fc.array(outcome, { maxLength: 7 }) }), {
      minLength: 1,
      maxLength: 6,
    });
    let run = 0;
    let evicted = 0;
    await fc.assert(
      fc.asyncProperty(batches, async (bs) => {
        run++;
        const one = `one${run}:`;
        const set = `set${run}:`;
        for (const b of bs) {
          await db.sql`insert into dispatch_settings (name, value) values ('track_record_size', ${b.window})
                       on conflict (name) do update set value = excluded.value`;
          for (const o of b.outcomes) await db.sql`select dispatch_record_outcome(${one + o.agent}, ${o.outcome}, ${o.ms})`;
          const agents = b.outcomes.map((o: Outcome) => set + o.agent);
          const [r] = await db.sql<{ n: number }[]>`
            select dispatch_record_outcome_set(${agents}::text[], ${b.outcomes.map((o) => o.outcome)}::text[],
                                               ${b.outcomes.map((o) => o.ms)}::float8[]) as n`;
          expect(r!.n).toBe(b.outcomes.length);
        }
        const expected = await state(one);
        expect(await state(set)).toEqual(expected);
        const total = bs.reduce((n, b) => n + b.outcomes.length, 0);
        if (expected.ring.length < total) evicted++;
      }),
      { numRuns: 40, seed: 62 },
    );
    // The windows were small enough that evictions happened, so the comparison covered them.
    expect(evicted).toBeGreaterThan(5);
  });

  it('records nothing for an empty or null set', async () => {
    const [r] = await db.sql<{ a: number; b: number }[]>`
      select dispatch_record_outcome_set('{}'::text[], '{}'::text[], '{}'::float8[]) as a,
             dispatch_record_outcome_set(null, null, null) as b`;
    expect(r).toEqual({ a: 0, b: 0 });
  });
});
