// The event loop's delay and the garbage collector's pauses of a process, every 5 s: a preload for
// the process to watch (a benchmark passes node flags with DISPATCH_BENCH_NODE_ARGS):
//   DISPATCH_BENCH_NODE_ARGS="--import ./scripts/profile/loop-delay.mjs" npm run bench -- …
// Appends to <LOOP_DELAY_OUT, default <temp dir>/loop-delay.<pid>.txt>, per 5 s since the process
// started: the delay's p50, p99, p99.9 and max (perf_hooks.monitorEventLoopDelay at 1 ms
// resolution, so an idle loop reads ~1 ms), the number of collections, the longest and their sum;
// and each pause over 3 ms on a line of its own, with its kind (1 scavenge, 2 mark-compact,
// 4 incremental marking, 8 weak callbacks) and when it began (s since the process started, and
// the wall-clock time, to line it up with a benchmark's DISPATCH_BENCH_TAIL listing).
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const out = process.env.LOOP_DELAY_OUT ?? path.join(os.tmpdir(), `loop-delay.${process.pid}.txt`);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let pauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    pauses.push(e.duration);
    if (e.duration > 3)
      appendFileSync(
        out,
        `  gc kind ${e.detail?.kind} ${e.duration.toFixed(1)} ms at ${(e.startTime / 1000).toFixed(1)} s (${new Date(performance.timeOrigin + e.startTime).toISOString()})\n`,
      );
  }
}).observe({ entryTypes: ['gc'] });
let n = 0;
setInterval(() => {
  n++;
  const ms = (ns) => (ns / 1e6).toFixed(1);
  pauses.sort((a, b) => a - b);
  const sum = pauses.reduce((a, b) => a + b, 0);
  appendFileSync(
    out,
    `t=${n * 5} s: loop delay p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} p99.9 ${ms(delay.percentile(99.9))} max ${ms(delay.max)} ms; ` +
      `gc ${pauses.length}, longest ${(pauses.at(-1) ?? 0).toFixed(1)} ms, sum ${sum.toFixed(0)} ms\n`,
  );
  delay.reset();
  pauses = [];
}, 5000).unref();
