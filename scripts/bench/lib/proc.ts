// CPU and memory of a process from /proc (Linux): CPU seconds from utime+stime in
// /proc/<pid>/stat, RSS sampled from /proc/<pid>/status (VmRSS) and its high-water mark (VmHWM).
import { readFileSync } from 'node:fs';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
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
