// The in-process drivers' open loop of creates (scripts/profile-tick.ts, scripts/bench/flow.ts):
// `n` POST /api/v1/tasks at `rate` per second over one undici pool, each sent when due; a create
// answered already assigned (the sync match) is completed at once by its assignee, as a tick's
// assignments are. Resolves when every create was answered and completed (or 30 s passed), with
// each created task's request start (wall ms) and the window's seconds.
import type { Pool } from 'undici';

export interface CreatingRun {
  api: Pool;
  completed: number;
  complete(taskId: string, agent: string): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function createAtRate(run: CreatingRun, rate: number, n: number): Promise<{ sent: Map<string, number>; seconds: number }> {
  const sent = new Map<string, number>(); // task id → wall ms at request start
  const t0 = performance.now();
  const creates: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    const startedAt = Date.now();
    creates.push(
      run.api
        .request({
          method: 'POST',
          path: '/api/v1/tasks',
          headers: { 'x-agent-id': `req-${i % 16}`, 'content-type': 'application/json' },
          body: JSON.stringify({ title: `t${i}`, capabilities: ['bench'] }),
        })
        .then(async (res) => {
          const body = (await res.body.json()) as { id?: string; status?: string; assignee?: string };
          if (res.statusCode === 201 && body.id) sent.set(body.id, startedAt);
          if (body.id && body.status === 'assigned') run.complete(body.id, body.assignee!);
        }),
    );
  }
  await Promise.all(creates);
  const deadline = performance.now() + 30_000;
  while (run.completed < sent.size && performance.now() < deadline) await sleep(20);
  return { sent, seconds: (performance.now() - t0) / 1000 };
}
