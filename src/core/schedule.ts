// Schedules (docs/schedules.md), the pure part: "the next occurrence after t" for a cron
// expression or the Wordware calendar form in an IANA time zone, with the contract's daylight
// saving rules, and the firing plan after a gap (catch_up) — no I/O, no clock (`now` is given).
//
// Glossary
//   occurrence   an instant the timetable fires at (UTC); the unique key of its claim.
//   wall time    a local date-time in the schedule's zone, written as if it were UTC (ms).
//   missed       an occurrence older than the on-time window when a replica gets to it.
//
// How DST is handled: croner matches patterns in wall time only (timezone UTC, where no DST
// exists), and each matching wall time is mapped to an instant here:
//   - a wall time that exists once → that instant;
//   - one that does not exist (spring forward) → the first valid instant after it, the end of
//     the gap (02:30 on the day New York springs forward fires at 03:00 EDT);
//   - one that happens twice (fall back) → the first only (01:30 EDT, never 01:30 EST).
// croner's own time zone mode fires a time in the repeated hour twice for patterns such as
// `*/20 1 * * *` (01:00, 01:20, 01:40 EDT, then again EST; test/core-schedule.test.ts), which is
// why it is only used in wall time.
import { Cron } from 'croner';

export const OVERLAP_POLICIES = ['skip', 'allow'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const CATCH_UP_POLICIES = ['latest', 'none', 'all'] as const;
export type CatchUpPolicy = (typeof CATCH_UP_POLICIES)[number];

/** catch_up: all fires at most this many missed occurrences (the most recent ones). */
export const CATCH_UP_ALL_MAX = 100;
/** preview?count=N: at most this many. */
export const PREVIEW_MAX = 100;

/** The Wordware form: each time on the days matching every non-empty list. */
export interface Calendar {
  time: string[];
  /** ISO: 1 = Monday … 7 = Sunday. */
  weekday?: number[];
  day?: number[];
  month?: number[];
}

export interface Timetable {
  cron: string | null;
  calendar: Calendar | null;
  timezone: string;
  start_at: Date | null;
  end_at: Date | null;
}

export interface Problem {
  field: string;
  message: string;
}

const TIME_RE = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;

// Compiled patterns, by pattern text (a schedule fires every second in the bench: no re-parse).
const patterns = new Map<string, Cron>();
function pattern(text: string, domAndDow: boolean): Cron {
  const key = `${domAndDow ? 'and' : 'or'} ${text}`;
  let c = patterns.get(key);
  if (!c) {
    c = new Cron(text, { timezone: 'UTC', paused: true, mode: '5-or-6-parts', domAndDow });
    if (patterns.size > 10_000) patterns.clear();
    patterns.set(key, c);
  }
  return c;
}

/** The calendar as cron patterns (one per time), days AND-ed as the contract says. */
export function calendarPatterns(c: Calendar): string[] {
  const list = (xs: number[] | undefined, map: (n: number) => number = (n) => n) => (xs && xs.length ? [...new Set(xs.map(map))].join(',') : '*');
  const days = `${list(c.day)} ${list(c.month)} ${list(c.weekday, (w) => w % 7)}`;
  return [...new Set(c.time)].map((t) => {
    const m = TIME_RE.exec(t)!;
    return `${Number(m[3] ?? 0)} ${Number(m[2])} ${Number(m[1])} ${days}`;
  });
}

const compiled = (t: Pick<Timetable, 'cron' | 'calendar'>): Cron[] =>
  t.cron !== null ? [pattern(t.cron, false)] : calendarPatterns(t.calendar!).map((p) => pattern(p, true));

/** Problems with a timetable (empty: valid). Fields named as in the schedule body. */
export function checkTimetable(t: {
  cron?: string | null;
  calendar?: Calendar | null;
  timezone?: string;
  start_at?: Date | null;
  end_at?: Date | null;
}): Problem[] {
  const problems: Problem[] = [];
  const hasCron = t.cron !== undefined && t.cron !== null;
  const hasCalendar = t.calendar !== undefined && t.calendar !== null;
  if (hasCron === hasCalendar) problems.push({ field: hasCron ? 'calendar' : 'cron', message: 'exactly one of cron and calendar is required' });
  if (hasCron) {
    const fields = t.cron!.trim().split(/\s+/);
    if (fields.length !== 5 && fields.length !== 6) problems.push({ field: 'cron', message: 'must have 5 fields, or 6 with seconds first' });
    else {
      try {
        pattern(t.cron!, false);
      } catch (err) {
        problems.push({ field: 'cron', message: `is not a valid cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}` });
      }
    }
  }
  if (hasCalendar) {
    const c = t.calendar!;
    c.time.forEach((x, i) => {
      if (!TIME_RE.test(x)) problems.push({ field: `calendar.time.${i}`, message: 'must be HH:MM or HH:MM:SS (24 h)' });
    });
    const range = (name: 'weekday' | 'day' | 'month', lo: number, hi: number) =>
      (c[name] ?? []).forEach((n, i) => {
        if (!Number.isInteger(n) || n < lo || n > hi) problems.push({ field: `calendar.${name}.${i}`, message: `must be an integer ${lo}..${hi}` });
      });
    range('weekday', 1, 7);
    range('day', 1, 31);
    range('month', 1, 12);
  }
  if (t.timezone !== undefined && !isTimeZone(t.timezone)) problems.push({ field: 'timezone', message: `unknown IANA time zone "${t.timezone}"` });
  if (t.start_at && t.end_at && t.end_at < t.start_at) problems.push({ field: 'end_at', message: 'must not be before start_at' });
  if (problems.length === 0 && hasCalendar && t.timezone !== undefined) {
    // A calendar no date matches (e.g. day 31 of February) never fires: refuse it rather than store a dead schedule.
    try {
      if (nextWall(compiled({ cron: null, calendar: t.calendar! }), Date.UTC(2000, 0, 1)) === null)
        problems.push({ field: 'calendar', message: 'matches no date' });
    } catch {
      problems.push({ field: 'calendar', message: 'matches no date' });
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Wall time ↔ instants

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isTimeZone(tz: string): boolean {
  if (tz.length === 0 || tz.length > 100) return false;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The wall time (ms, as if UTC) of an instant in `tz`. */
export function wallOf(instantMs: number, tz: string): number {
  if (isUtc(tz)) return instantMs;
  const ms = ((instantMs % 1000) + 1000) % 1000;
  const parts = formatter(tz).formatToParts(instantMs - ms);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) + ms;
}

const isUtc = (tz: string) => tz === 'UTC' || tz === 'Etc/UTC';
const offsetAt = (instantMs: number, tz: string) => wallOf(instantMs, tz) - instantMs;
const DAY = 86_400_000;

/**
 * The instant a wall time fires at: the first of two (repeated), the end of the gap (a wall time
 * that does not exist), else the only one.
 */
export function instantOfWall(wallMs: number, tz: string): number {
  if (isUtc(tz)) return wallMs;
  const before = offsetAt(wallMs - DAY / 2, tz);
  const after = offsetAt(wallMs + DAY / 2, tz);
  const candidates = [...new Set([wallMs - before, wallMs - after])].filter((c) => wallOf(c, tz) === wallMs).sort((a, b) => a - b);
  if (candidates.length) return candidates[0]!;
  // In a gap: the transition lies between the two readings; find its first instant (to the ms).
  let lo = wallMs - after; // before the transition (shows an earlier wall time)
  let hi = wallMs - before; // after it
  if (lo > hi) [lo, hi] = [hi, lo];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(mid, tz) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** The earliest wall time strictly after `wallMs` matched by any pattern (null: none ever). */
function nextWall(crons: Cron[], wallMs: number): number | null {
  let best: number | null = null;
  for (const c of crons) {
    const d = c.nextRun(new Date(wallMs));
    if (d && (best === null || d.getTime() < best)) best = d.getTime();
  }
  return best;
}

/**
 * The first occurrence strictly after `afterMs` (an instant), honouring the zone's DST rules,
 * start_at (inclusive) and end_at (inclusive); null when there is none.
 */
export function nextOccurrence(t: Timetable, afterMs: number): Date | null {
  const crons = compiled(t);
  let from = afterMs;
  if (t.start_at && t.start_at.getTime() - 1 > from) from = t.start_at.getTime() - 1;
  // Wall times whose instant is not after `from` (the second pass of a repeated hour maps to the
  // first, earlier one) are passed over; bounded so a pathological zone cannot loop forever.
  let wall = wallOf(from, t.timezone);
  for (let i = 0; i < 100_000; i++) {
    const w = nextWall(crons, wall);
    if (w === null) return null;
    const at = instantOfWall(w, t.timezone);
    if (t.end_at && at > t.end_at.getTime()) return null;
    if (at > from) return new Date(at);
    wall = w;
  }
  return null;
}

/** The next `count` occurrences after `afterMs`. */
export function nextOccurrences(t: Timetable, afterMs: number, count: number): Date[] {
  const out: Date[] = [];
  let at = afterMs;
  while (out.length < count) {
    const n = nextOccurrence(t, at);
    if (!n) break;
    out.push(n);
    at = n.getTime();
  }
  return out;
}

/**
 * Occurrences in [fromMs, toMs], at most `limit` of the most recent ones (wall-time previous
 * runs, mapped to instants, deduplicated). For catch-up after a gap of any length without
 * walking the whole gap.
 */
export function latestOccurrences(t: Timetable, fromMs: number, toMs: number, limit: number): Date[] {
  if (toMs < fromMs || limit <= 0) return [];
  const crons = compiled(t);
  const found = new Set<number>();
  const lo = Math.max(fromMs, t.start_at?.getTime() ?? -Infinity);
  const hi = Math.min(toMs, t.end_at?.getTime() ?? Infinity);
  // One extra second of wall time: toMs itself may be an occurrence (previousRuns is exclusive).
  const ref = new Date(wallOf(hi, t.timezone) + 1000);
  for (const c of crons) {
    for (const w of c.previousRuns(limit + 2, ref)) {
      const at = instantOfWall(w.getTime(), t.timezone);
      if (at >= lo && at <= hi) found.add(at);
    }
  }
  return [...found]
    .sort((a, b) => a - b)
    .slice(-limit)
    .map((ms) => new Date(ms));
}

// ---------------------------------------------------------------------------------------------
// Firing

export interface FiringPlan {
  /** Occurrences to fire now, oldest first. */
  fire: Date[];
  /** Missed occurrences dropped by catch_up (counted, not recorded one by one). */
  dropped: number;
  /** The next_run_at to store: the first occurrence after now (null: none left). */
  next: Date | null;
}

/**
 * What to fire for a schedule whose `next_run_at` is due at `now`. Occurrences within `graceMs`
 * of now are on time and all fire; older ones were missed (no replica ran) and follow catch_up:
 * `none` drops them, `latest` fires the most recent one (unless an on-time one fires anyway),
 * `all` fires them, the most recent CATCH_UP_ALL_MAX at most.
 */
export function planFiring(t: Timetable & { catch_up: CatchUpPolicy }, nextRunAt: Date, now: Date, graceMs: number): FiringPlan {
  const cutoff = now.getTime() - graceMs;
  const from = nextRunAt.getTime();
  const onTime: Date[] = [];
  if (from <= now.getTime()) {
    let at: Date | null = from > cutoff ? nextRunAt : nextOccurrence(t, cutoff);
    while (at && at.getTime() <= now.getTime()) {
      onTime.push(at);
      at = nextOccurrence(t, at.getTime());
    }
  }
  const missedCount = from <= cutoff ? latestOccurrences(t, from, cutoff, CATCH_UP_ALL_MAX + 1) : [];
  let fire: Date[] = [];
  if (t.catch_up === 'all') fire = missedCount.slice(-CATCH_UP_ALL_MAX);
  else if (t.catch_up === 'latest' && onTime.length === 0 && missedCount.length) fire = missedCount.slice(-1);
  fire = [...fire, ...onTime];
  const next = nextOccurrence(t, Math.max(now.getTime(), from - 1));
  return { fire, dropped: Math.max(0, missedCount.length - fire.length + onTime.length), next };
}
