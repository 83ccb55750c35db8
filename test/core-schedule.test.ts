// The pure timetable: cron and the Wordware calendar in a time zone, the contract's DST rules,
// start/end bounds, and the firing plan after a gap (catch_up).
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { checkTimetable, nextOccurrences, planFiring, type Timetable } from '../src/core/schedule.js';

const tt = (o: Partial<Timetable>): Timetable => ({ cron: null, calendar: null, timezone: 'UTC', start_at: null, end_at: null, ...o });
const iso = (ds: Date[]) => ds.map((d) => d.toISOString());
const at = (s: string) => new Date(s).getTime();

describe('nextOccurrence across daylight saving (America/New_York, 2026)', () => {
  it('spring forward: 02:30 does not exist on March 8 and fires at the first valid instant after it (03:00 EDT)', () => {
    const t = tt({ cron: '30 2 * * *', timezone: 'America/New_York' });
    expect(iso(nextOccurrences(t, at('2026-03-06T12:00:00Z'), 4))).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT: the gap's end
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
      '2026-03-10T06:30:00.000Z',
    ]);
  });

  it('spring forward: every 15 minutes, the four times inside the gap fire once, at 03:00, with 03:00 itself', () => {
    const t = tt({ cron: '*/15 * * * *', timezone: 'America/New_York' });
    expect(iso(nextOccurrences(t, at('2026-03-08T06:30:00Z'), 4))).toEqual([
      '2026-03-08T06:45:00.000Z', // 01:45 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT (02:00..02:45 do not exist)
      '2026-03-08T07:15:00.000Z',
      '2026-03-08T07:30:00.000Z',
    ]);
  });

  it('fall back: a time in the repeated hour fires once, the first (EDT)', () => {
    const t = tt({ cron: '*/20 1 * * *', timezone: 'America/New_York' });
    expect(iso(nextOccurrences(t, at('2026-10-31T12:00:00Z'), 5))).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T05:20:00.000Z',
      '2026-11-01T05:40:00.000Z',
      '2026-11-02T06:00:00.000Z', // next day 01:00 EST; not 01:00 EST on Nov 1
      '2026-11-02T06:20:00.000Z',
    ]);
    // Asked from inside the second pass of the hour, the next one is after it.
    expect(iso(nextOccurrences(t, at('2026-11-01T06:10:00Z'), 1))).toEqual(['2026-11-02T06:00:00.000Z']);
  });

  it("croner's own time zone mode fires the repeated hour twice, which is why it only runs in wall time here", () => {
    const c = new Cron('*/20 1 * * *', { timezone: 'America/New_York', paused: true });
    expect(iso(c.nextRuns(6, new Date('2026-10-31T12:00:00Z')))).toContain('2026-11-01T06:20:00.000Z'); // 01:20 EST, a second time
  });

  it('an hourly cron over a whole year fires 23 times on the spring day and 24 (not 25) on the fall day, each instant distinct and increasing', () => {
    const t = tt({ cron: '0 * * * *', timezone: 'America/New_York' });
    const all = nextOccurrences(t, at('2025-12-31T23:59:59Z'), 8760 + 24);
    const day = (d: string) => all.filter((x) => new Date(x.getTime()).toLocaleDateString('en-CA', { timeZone: 'America/New_York' }) === d).length;
    expect(day('2026-03-08')).toBe(23);
    // The repeated 01:00 fires once: 24 distinct wall hours on the fall day.
    expect(day('2026-11-01')).toBe(24);
    for (let i = 1; i < all.length; i++) expect(all[i]!.getTime()).toBeGreaterThan(all[i - 1]!.getTime());
  });
});

describe('calendar (Wordware form)', () => {
  it('time ["09:00"], weekday [7], month [12]: the Sundays of December at 09:00', () => {
    const t = tt({ calendar: { time: ['09:00'], weekday: [7], month: [12] } });
    expect(iso(nextOccurrences(t, at('2026-01-01T00:00:00Z'), 5))).toEqual([
      '2026-12-06T09:00:00.000Z',
      '2026-12-13T09:00:00.000Z',
      '2026-12-20T09:00:00.000Z',
      '2026-12-27T09:00:00.000Z',
      '2027-12-05T09:00:00.000Z',
    ]);
  });

  it('days AND weekdays (not cron OR), several times, seconds, in a zone', () => {
    const t = tt({ calendar: { time: ['08:00:30', '18:00'], weekday: [5], day: [13] }, timezone: 'Europe/Paris' });
    // Friday the 13th: February and March 2026.
    expect(iso(nextOccurrences(t, at('2026-01-01T00:00:00Z'), 3))).toEqual([
      '2026-02-13T07:00:30.000Z',
      '2026-02-13T17:00:00.000Z',
      '2026-03-13T07:00:30.000Z',
    ]);
  });

  it('start_at and end_at bound the occurrences (inclusive)', () => {
    const t = tt({ cron: '0 * * * *', start_at: new Date('2026-01-01T03:00:00Z'), end_at: new Date('2026-01-01T05:00:00Z') });
    expect(iso(nextOccurrences(t, at('2026-01-01T00:00:00Z'), 10))).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T04:00:00.000Z',
      '2026-01-01T05:00:00.000Z',
    ]);
  });
});

describe('checkTimetable', () => {
  it.each([
    [{ cron: '61 * * * *', timezone: 'UTC' }, 'cron'],
    [{ cron: '* * *', timezone: 'UTC' }, 'cron'],
    [{ cron: '* * * * * * *', timezone: 'UTC' }, 'cron'],
    [{ cron: '0 7 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ calendar: { time: ['25:00'] }, timezone: 'UTC' }, 'calendar.time.0'],
    [{ calendar: { time: ['09:00'], weekday: [8] }, timezone: 'UTC' }, 'calendar.weekday.0'],
    [{ calendar: { time: ['09:00'], day: [31], month: [2] }, timezone: 'UTC' }, 'calendar'],
    [{ cron: '0 7 * * *', calendar: { time: ['09:00'] }, timezone: 'UTC' }, 'calendar'],
    [{ cron: '0 7 * * *', timezone: 'UTC', start_at: new Date('2026-02-01'), end_at: new Date('2026-01-01') }, 'end_at'],
  ])('%j → a problem on %s', (input, field) => {
    expect(checkTimetable(input).map((p) => p.field)).toContain(field);
  });

  it('accepts names, ranges, steps and lists, 5 or 6 fields', () => {
    for (const cron of ['0 7 * * MON-FRI', '0 0 1 JAN,JUL *', '*/10 8-18 * * 1-5', '* * * * * *', '30 */5 * * * SUN'])
      expect(checkTimetable({ cron, timezone: 'America/New_York' })).toEqual([]);
  });
});

describe('planFiring after a gap', () => {
  const every = tt({ cron: '*/10 * * * *' }); // every 10 minutes
  const nextRunAt = new Date('2026-01-01T09:00:00Z');
  const now = new Date('2026-01-01T12:00:05Z'); // a 3-hour gap; 12:00 is on time (5 s ago)
  const grace = 30_000;

  it('latest: the on-time occurrence fires, the missed ones are dropped', () => {
    expect(planFiring({ ...every, catch_up: 'latest' }, nextRunAt, now, grace)).toMatchObject({
      fire: [new Date('2026-01-01T12:00:00Z')],
      next: new Date('2026-01-01T12:10:00Z'),
    });
  });

  it('latest: with no on-time occurrence, the most recent missed one fires once', () => {
    const later = new Date('2026-01-01T12:05:00Z');
    expect(planFiring({ ...every, catch_up: 'latest' }, nextRunAt, later, grace).fire).toEqual([new Date('2026-01-01T12:00:00Z')]);
    expect(planFiring({ ...every, catch_up: 'none' }, nextRunAt, later, grace)).toMatchObject({ fire: [], next: new Date('2026-01-01T12:10:00Z') });
  });

  it('all: every missed occurrence (18) and the on-time one, oldest first; at most 100 of the missed', () => {
    const p = planFiring({ ...every, catch_up: 'all' }, nextRunAt, now, grace);
    expect(p.fire).toHaveLength(19);
    expect(p.fire[0]).toEqual(nextRunAt);
    expect(p.fire.at(-1)).toEqual(new Date('2026-01-01T12:00:00Z'));
    const secondly = planFiring({ ...tt({ cron: '* * * * * *' }), catch_up: 'all' }, nextRunAt, now, grace);
    expect(secondly.fire).toHaveLength(100 + 30);
    expect(secondly.fire.at(-1)).toEqual(now);
  });
});
