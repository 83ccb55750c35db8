// The bench's whole-box CPU (scripts/bench/lib/proc.ts CpuGroups): what each system costs across
// its processes, its Postgres server's included. A process that burns CPU inside the window is
// counted in its group, one found only after start() counts from zero, and a group of idle or
// no processes stays near zero.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { boxCpu, childrenOf, CpuGroups, parentOf } from '../scripts/bench/lib/proc.js';

/** A node child that, told 'burn', spins until it has used `ms` of CPU, then answers 'burnt'. */
const BURNER = `
process.on('message', (m) => {
  if (m.type !== 'burn') return;
  const start = process.cpuUsage();
  for (;;) {
    const u = process.cpuUsage(start);
    if ((u.user + u.system) / 1000 >= m.ms) break;
  }
  process.send({ type: 'burnt' });
});
process.send({ type: 'ready' });
`;

const children: ChildProcess[] = [];

function startBurner(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', BURNER], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve) => child.once('message', () => resolve(child)));
}

function burn(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    child.once('message', () => resolve());
    child.send({ type: 'burn', ms });
  });
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('CpuGroups (the bench’s whole-box CPU)', () => {
  it("counts a process's CPU inside the window in its group, and nothing in an idle one", async () => {
    const busy = await startBurner();
    const idle = await startBurner();
    await burn(idle, 150); // before the window: not counted
    expect(childrenOf(process.pid)).toEqual(expect.arrayContaining([busy.pid, idle.pid]));
    expect(parentOf(busy.pid!)).toBe(process.pid);

    const groups = new CpuGroups({ busy: () => [busy.pid!], idle: () => [idle.pid!], none: () => [] }, 20);
    groups.start();
    await burn(busy, 300);
    const s = groups.stop();
    expect(s.busy).toBeGreaterThanOrEqual(0.25); // /proc counts in 10 ms ticks
    expect(s.idle).toBeLessThan(0.05);
    expect(s.none).toBe(0);
  });

  it('counts a process first seen after start() from zero', async () => {
    const late: { child?: ChildProcess } = {};
    const groups = new CpuGroups({ late: () => (late.child ? [late.child.pid!] : []) }, 20);
    groups.start();
    late.child = await startBurner();
    await burn(late.child, 200);
    const s = groups.stop();
    expect(s.late).toBeGreaterThanOrEqual(0.15);
  });

  it('gives ms per lifecycle per group and their sum', () => {
    const b = boxCpu({ Dispatch: 0.8, Postgres: 0.4 }, 1000);
    expect(b.parts).toEqual({ Dispatch: 0.8, Postgres: 0.4 });
    expect(b.msPerLifecycle).toBeCloseTo(1.2, 10);
  });
});
