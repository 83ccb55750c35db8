// CPU and memory of a process from /proc (Linux): CPU seconds from utime+stime in
// /proc/<pid>/stat, RSS sampled from /proc/<pid>/status (VmRSS) and its high-water mark (VmHWM).
import { readdirSync, readFileSync } from 'node:fs';

export const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64

/** A /proc stat line's fields after the command name (which may contain spaces): state, ppid, …; field n of proc(5) is at index n - 3. */
export function statFieldsOf(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** /proc/<pid>/stat's fields after the command name. */
function statFields(pid: number | string): string[] {
  return statFieldsOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

export function memoryKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: get('VmRSS'), hwm: get('VmHWM') };
}

/** Samples a process every `everyMs` from start() to stop(): CPU used in between, peak RSS. */
export class ProcSampler {
  private cpu0 = 0;
  private t0 = 0;
  private peakKb = 0;
  private timer: NodeJS.Timeout | undefined;
  private last: { cpuS: number; wallS: number; peakRssMb: number } | undefined;

  constructor(
    readonly pid: number,
    private everyMs = 100,
  ) {}

  start(): void {
    this.cpu0 = cpuSeconds(this.pid);
    this.t0 = performance.now();
    this.peakKb = memoryKb(this.pid).rss;
    this.timer = setInterval(() => this.sample(), this.everyMs);
    this.timer.unref();
  }

  private sample(): void {
    try {
      this.peakKb = Math.max(this.peakKb, memoryKb(this.pid).rss);
    } catch {
      /* process gone */
    }
  }

  /** CPU seconds used since start(), wall seconds, CPU% of one core, peak sampled RSS in MB. */
  stop(): { cpuS: number; wallS: number; cpuPct: number; peakRssMb: number } {
    clearInterval(this.timer);
    let cpuS = this.last?.cpuS ?? 0;
    try {
      this.sample();
      cpuS = cpuSeconds(this.pid) - this.cpu0;
    } catch {
      /* process gone */
    }
    const wallS = (performance.now() - this.t0) / 1000;
    this.last = { cpuS, wallS, peakRssMb: this.peakKb / 1024 };
    return { cpuS, wallS, cpuPct: (100 * cpuS) / wallS, peakRssMb: this.peakKb / 1024 };
  }
}

/** The processes whose parent is `ppid` (from /proc/<pid>/stat; empty off Linux). */
export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (Number(statFields(e)[1]) === ppid) out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** The parent of `pid`, or undefined when /proc cannot say (another machine, not Linux). */
export function parentOf(pid: number): number | undefined {
  try {
    return Number(statFields(pid)[1]);
  } catch {
    return undefined;
  }
}

/**
 * CPU of named groups of processes from start() to stop() — a system's whole box: the broker,
 * its Postgres server's processes, nats-server, its workers. A group's members are listed anew at
 * every sample, so a process that starts inside the window (a new backend) counts from zero, and
 * one that exits keeps what its last sample saw.
 */
export class CpuGroups {
  /** pid → [group, CPU seconds when first seen, CPU seconds at the last sample]. */
  private seen = new Map<number, [string, number, number]>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly groups: Record<string, () => number[]>,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.sample(false);
    this.timer = setInterval(() => this.sample(true), this.everyMs);
    this.timer.unref();
  }

  /** CPU seconds per group since start(). */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    this.sample(true);
    const out: Record<string, number> = Object.fromEntries(Object.keys(this.groups).map((g) => [g, 0]));
    for (const [group, first, last] of this.seen.values()) out[group] = (out[group] ?? 0) + (last - first);
    return out;
  }

  private sample(started: boolean): void {
    for (const [group, list] of Object.entries(this.groups)) {
      for (const pid of list()) {
        let cpu: number;
        try {
          cpu = cpuSeconds(pid);
        } catch {
          continue; // gone: keeps its last sample
        }
        const s = this.seen.get(pid);
        if (s) s[2] = cpu;
        else this.seen.set(pid, [group, started ? 0 : cpu, cpu]);
      }
    }
  }
}

/**
 * A NATS-fed broker's box: its own process (the group `name`), its Postgres server's processes,
 * nats-server and its workers' process — the load generator is the bench's own process and not
 * counted. Undefined when /proc does not show the Postgres server (an external one elsewhere) or
 * the workers' process is unknown.
 */
export function brokerGroups(
  name: string,
  pid: number,
  serverPids: (() => number[]) | undefined,
  natsPid: () => number | undefined,
  workersPid: number | undefined,
): CpuGroups | undefined {
  if (!serverPids || workersPid === undefined) return undefined;
  return new CpuGroups({
    [name]: () => [pid],
    Postgres: () => serverPids(),
    'nats-server': () => {
      const p = natsPid();
      return p === undefined ? [] : [p];
    },
    workers: () => [workersPid],
  });
}

/** A system's CPU per lifecycle across its processes (CpuGroups), in ms: the sum and each group's share. */
export interface BoxCpu {
  msPerLifecycle: number;
  parts: Record<string, number>;
}

export function boxCpu(seconds: Record<string, number>, lifecycles: number): BoxCpu {
  const n = Math.max(1, lifecycles);
  const parts = Object.fromEntries(Object.entries(seconds).map(([g, s]) => [g, (1000 * s) / n]));
  return { msPerLifecycle: Object.values(parts).reduce((a, b) => a + b, 0), parts };
}

/** "0.95 ms (Dispatch 0.42, Postgres 0.30, …)". */
export function formatBoxCpu(b: BoxCpu): string {
  const parts = Object.entries(b.parts).map(([g, ms]) => `${g} ${ms.toFixed(2)}`);
  return `${b.msPerLifecycle.toFixed(2)} ms (${parts.join(', ')})`;
}
