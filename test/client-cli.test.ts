// The `dispatch` CLI (CONTRACT §22) as a child process against a real Dispatch: every command
// whose route exists, tables and --json, exit codes 0/1/2, the API error's code on stderr, and
// `migrate`/`start` running the service from this checkout. (`tasks attempts` and `events emit`
// call routes built on other branches: not tested here.)
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { freePort } from '../src/store/embedded.js';
import { ADMIN_TOKEN, startApp, type TestApp } from './helpers/app.js';
import { createTestDatabase } from './helpers/db.js';
import { waitFor } from './helpers/wait.js';

const BIN = path.resolve('packages/client/bin/dispatch.js');

let t: TestApp;
beforeAll(async () => {
  t = await startApp({
    config: {
      assignment: { tick_interval_ms: 100 },
      agents: [
        { id: 'scout', name: 'Scout', capabilities: ['research'], state: 'ready' },
        { id: 'idle', name: 'Idle', capabilities: ['nothing'], state: 'ready' },
      ],
    },
  });
});
afterAll(async () => t?.stop());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI (async: the server under test lives in this process). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> & { child: ReturnType<typeof spawn> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, DISPATCH_URL: t.apiUrl, DISPATCH_AGENT_ID: 'alice', DISPATCH_ADMIN_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return Object.assign(done, { child });
}
const json = async (args: string[], env?: Record<string, string>) => {
  const r = await cli([...args, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const admin = { DISPATCH_ADMIN_TOKEN: ADMIN_TOKEN };

describe('dispatch tasks', () => {
  it('create, list, get (tables and --json), explain, cancel, retry', async () => {
    const created = await cli(['tasks', 'create', 'Summarise the paper', '--scope', 'nothing', '--priority', '7', '--context', '{"topic":"attention"}']);
    expect(created.code, created.stderr).toBe(0);
    const id = /^id\s+(\S+)$/m.exec(created.stdout)?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.stdout).toMatch(/^title\s+Summarise the paper$/m);

    const task = await json(['tasks', 'get', id!]);
    expect(task).toMatchObject({ id, title: 'Summarise the paper', priority: 7, requester: 'alice', context: { topic: 'attention' } });

    const list = await cli(['tasks', 'list', '--requester', 'alice']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+PRIORITY\s+TITLE/);
    expect(list.stdout).toContain(id);
    expect((await json(['tasks', 'list', '--requester', 'alice'])).tasks.map((x: { id: string }) => x.id)).toContain(id);

    const explained = await cli(['tasks', 'explain', id!]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/needs nothing/);
    expect(explained.stdout).toMatch(/^idle\s+true/m);
    expect((await json(['tasks', 'explain', id!])).task_id).toBe(id);

    expect((await json(['tasks', 'cancel', id!])).status).toBe('cancelled');
    const once = await json(['tasks', 'create', 'only once', '--scope', 'nothing', '--idempotency-key', 'cli-42']);
    expect((await json(['tasks', 'create', 'only once', '--scope', 'nothing', '--idempotency-key', 'cli-42'])).id).toBe(once.id);

    const retried = await cli(['tasks', 'retry', id!]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout.trim()).toMatch(new RegExp(`^${id} (pending|assigned)$`));
  });

  it('watch follows the events until the task ends', async () => {
    const { id } = await json(['tasks', 'create', 'watch me', '--scope', 'research']);
    const watching = cli(['tasks', 'watch', id]);
    await waitFor(async () => (await t.call('GET', `/api/v1/tasks/${id}`)).body.status === 'assigned', 'assignment to scout');
    expect((await t.call('POST', `/api/v1/tasks/${id}/progress`, { agent: 'scout', body: { message: 'reading', percent: 40 } })).status).toBe(200);
    expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { agent: 'scout', body: { result: { ok: true } } })).status).toBe(200);
    const r = await watching;
    expect(r.code, r.stderr).toBe(0);
    const types = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[1]);
    expect(types).toEqual(['task.created', 'task.assigned', 'task.started', 'task.progress', 'task.completed']);

    const asJson = await cli(['tasks', 'watch', id, '--json']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout.trim().split('\n').at(-1)!)).toMatchObject({ type: 'task.completed', correlation_id: id });
  });

  it('exits 1 on an API error with its message and code on stderr', async () => {
    const bad = await cli(['tasks', 'get', 'not-a-uuid']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/invalid_id/);
    expect(bad.stdout).toBe('');
    const missing = await cli(['tasks', 'get', '00000000-0000-4000-8000-000000000000', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/\(not_found, HTTP 404\)/);
    const forbidden = await cli(['agents', 'list']);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toMatch(/\(unauthorized, HTTP 401\)/);
  });

  it('exits 2 on a usage error', async () => {
    for (const args of [
      ['tasks', 'bogus'],
      ['tasks', 'create'],
      ['tasks', 'create', 'x', '--priority', '11'],
      ['tasks', 'create', 'x', '--context', 'not json'],
      ['schedules', 'list', '--paused', 'maybe'],
      ['workflows', 'apply', '/nonexistent/flow.yaml'],
      ['--no-such-flag'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).not.toBe('');
    }
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: dispatch/);
  });
});

describe('dispatch agents and tokens (admin)', () => {
  it('agents list, drain, undrain', async () => {
    const list = await cli(['agents', 'list'], admin);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^scout\s+ready\s+\d+\/\d+\s+false\s+research$/m);
    expect((await json(['agents', 'drain', 'scout'], admin)).drained).toBe(true);
    expect((await json(['agents', 'list'], admin)).agents.find((a: { id: string }) => a.id === 'scout').drained).toBe(true);
    const undrained = await cli(['agents', 'undrain', 'scout'], admin);
    expect(undrained.stdout.trim()).toBe('scout drained=false');
  });

  it('tokens create, list, revoke', async () => {
    const created = await json(['tokens', 'create', 'scout', '--label', 'host-7'], admin);
    expect(created).toMatchObject({ agent: 'scout', label: 'host-7', token: expect.any(String) });
    const list = await cli(['tokens', 'list', 'scout'], admin);
    expect(list.stdout).toContain(created.id);
    expect(list.stdout).not.toContain(created.token);
    const revoked = await cli(['tokens', 'revoke', 'scout', created.id], admin);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await json(['tokens', 'list', 'scout'], admin)).tokens).toEqual([]);
  });
});

describe('dispatch workflows and schedules', () => {
  it('workflows apply <yaml>, list, run <key>', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-cli-'));
    const file = path.join(dir, 'paper.yaml');
    writeFileSync(
      file,
      'key: paper\nsteps:\n  - { id: research, task: { title: "Research", scope: nothing } }\n  - { id: review, task: { title: "Review", scope: nothing }, depends_on: [research] }\n',
    );
    const applied = await cli(['workflows', 'apply', file]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim()).toBe('paper version 1 (2 steps)');
    const list = await cli(['workflows', 'list']);
    expect(list.stdout).toMatch(/^paper\s+1\s+2/m);
    const run = await json(['workflows', 'run', 'paper', '--context', '{"topic":"x"}']);
    expect(run).toMatchObject({ workflow_key: 'paper', status: 'running', context: { topic: 'x' } });
    const missing = await cli(['workflows', 'run', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not_found/);
  });

  it('schedules list, pause, resume, trigger', async () => {
    const created = await t.call('POST', '/api/v1/schedules', {
      agent: 'alice',
      body: { name: 'morning', cron: '0 7 * * *', task: { title: 'GM', scope: 'nothing' } },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const list = await cli(['schedules', 'list']);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+morning\\s+0 7 \\* \\* \\*\\s+UTC\\s+false`, 'm'));
    expect((await json(['schedules', 'pause', id])).paused).toBe(true);
    expect((await json(['schedules', 'list', '--paused', 'true'])).schedules.map((s: { id: string }) => s.id)).toEqual([id]);
    expect((await json(['schedules', 'resume', id])).paused).toBe(false);
    const fired = await json(['schedules', 'trigger', id]);
    expect(fired).toMatchObject({ title: 'GM', schedule_id: id });
  });
});

describe('dispatch migrate and start (the service from this checkout)', () => {
  it('migrate applies the migrations to an empty database and exits 0; again: up to date', async () => {
    const db = await createTestDatabase({ template: null });
    try {
      const env = { DISPATCH_DATABASE_URL: db.url, DISPATCH_LOG_LEVEL: 'warn' };
      const first = await cli(['migrate'], env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/applied \d+ migration\(s\): 0001_/);
      const rows = await db.sql`select count(*)::int as n from schema_migrations`;
      expect(rows[0]!.n).toBeGreaterThan(0);
      const again = await cli(['migrate'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/migrations up to date/);
    } finally {
      await db.drop();
    }
  }, 60_000);

  it('start runs the service until SIGTERM, then exits 0', async () => {
    const db = await createTestDatabase();
    const [port, metrics] = [await freePort(), await freePort()];
    try {
      const run = cli(['start'], {
        DISPATCH_DATABASE_URL: db.url,
        DISPATCH_PORT: String(port),
        DISPATCH_METRICS_PORT: String(metrics),
        DISPATCH_HOST: '127.0.0.1',
        DISPATCH_LOG_LEVEL: 'warn',
      });
      const health = await waitFor(
        async () => {
          const res = await request(`http://127.0.0.1:${metrics}/health`);
          return res.statusCode === 200 ? ((await res.body.json()) as { status: string }) : (await res.body.dump(), undefined);
        },
        'the service to be healthy',
        45_000,
        100,
      );
      expect(health.status).toBe('ok');
      const listed = await cli(['tasks', 'list', '--json'], { DISPATCH_URL: `http://127.0.0.1:${port}` });
      expect(JSON.parse(listed.stdout)).toEqual({ tasks: [], next_cursor: null });
      run.child.kill('SIGTERM');
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await db.drop();
    }
  }, 90_000);
});
