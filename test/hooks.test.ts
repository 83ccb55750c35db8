// Signed webhooks in (docs/webhooks.md) against a running Dispatch: the signature over the raw
// body (every way of getting it wrong is 401 with nothing stored), ignored events, replayed
// delivery ids (sequential and concurrent: one task), templates, a workflow source, config
// problems listed at start, and the secret never in a log.
import { createHmac, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig, redactedConfig } from '../src/config.js';
import { loggerOptions } from '../src/observability/logger.js';
import { startApp, type TestApp } from './helpers/app.js';

const GH_SECRET = 'gh-very-secret-7f3a9c';
const CI_SECRET = 'ci-very-secret-22b1e0';
const PLAIN_SECRET = 'plain-very-secret-91d4';

const INTAKE = {
  github: {
    secret: GH_SECRET,
    signature_header: 'X-Hub-Signature-256',
    delivery_header: 'X-GitHub-Delivery',
    event_header: 'X-GitHub-Event',
    events: ['push', 'pull_request'],
    requester: 'github',
    task: {
      title: '{{repository.full_name}}: {{head_commit.message}}',
      description: 'by {{commits.0.author.name}} ({{missing.path}})',
      scope: 'code',
      capabilities: ['{{repository.language}}'],
      priority: 7,
      context: { ref: '{{ref}}', nested: { owner: ['{{repository.owner.login}}', 5, true], size: '{{size}}' } },
    },
  },
  ci: {
    secret: CI_SECRET,
    signature_header: 'X-Signature',
    delivery_header: 'X-Delivery',
    workflow: { key: 'ci_review', context: { branch: '{{branch}}' } },
  },
  plain: { secret: PLAIN_SECRET, signature_header: 'X-Signature', task: { title: '{{title}}' } },
  beating: {
    secret: PLAIN_SECRET,
    signature_header: 'X-Signature',
    task: { title: '{{title}}', timeout_ms: 60_000, heartbeat_timeout_ms: 5000, max_retries: 1 },
  },
};

const sign = (secret: string, body: string | Buffer) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const pushPayload = (message = 'fix the build') => ({
  ref: 'refs/heads/main',
  size: 2,
  head_commit: { message },
  commits: [{ author: { name: 'Ada' } }, { author: { name: 'Bob' } }],
  repository: { full_name: 'acme/api', language: 'TypeScript', owner: { login: 'acme' } },
});

const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const logger = pino(loggerOptions('trace', 'json'), sink);
  t = await startApp({ logger, config: { intake: INTAKE as never } });
  // As main.ts does at start.
  logger.info({ config: redactedConfig(t.config) }, 'configuration loaded');
  const put = await t.call('PUT', '/api/v1/workflows/ci_review', {
    body: {
      steps: [
        { id: 'build', task: { title: 'build', scope: 'ci' } },
        { id: 'review', task: { title: 'review', scope: 'review' }, depends_on: ['build'] },
      ],
    },
  });
  expect(put.status).toBe(201);
});
afterAll(async () => t?.stop());

interface HookCall {
  source?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

async function hook({ source = 'github', body = '', headers = {} }: HookCall) {
  const res = await request(`${t.apiUrl}/api/v1/hooks/${source}`, { method: 'POST', headers, body });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined };
}

/** A push delivery from GitHub, signed over exactly `raw`. */
function gh(raw: string, extra: Record<string, string> = {}) {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': randomUUID(),
    'x-hub-signature-256': sign(GH_SECRET, raw),
    ...extra,
  };
}

async function stored() {
  const [r] = await t.sql<{ tasks: number; events: number; deliveries: number; runs: number }[]>`
    select (select count(*) from tasks) as tasks, (select count(*) from task_events) as events,
           (select count(*) from hook_deliveries) as deliveries, (select count(*) from workflow_runs) as runs`;
  return r!;
}

describe('a signed delivery', () => {
  it('creates a task filled from the payload, with the payload in context.payload, without X-Agent-ID', async () => {
    const payload = pushPayload();
    const raw = JSON.stringify(payload);
    const res = await hook({ body: raw, headers: gh(raw) });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const task = res.body.task;
    expect(task).toMatchObject({
      title: 'acme/api: fix the build',
      description: 'by Ada ()',
      scope: 'code',
      capabilities: ['typescript'],
      priority: 7,
      requester: 'github',
      status: 'pending',
    });
    expect(task.context).toEqual({ ref: 'refs/heads/main', nested: { owner: ['acme', 5, true], size: '2' }, payload });
    const [row] = await t.sql<{ requester: string }[]>`select requester from tasks where id = ${task.id}`;
    expect(row!.requester).toBe('github');
  });

  it('is read as bytes whatever the Content-Type (or none)', async () => {
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const raw = JSON.stringify(pushPayload(`ct ${ct}`));
      const headers = gh(raw);
      if (ct) headers['content-type'] = ct;
      else delete (headers as Record<string, string>)['content-type'];
      const res = await hook({ body: raw, headers });
      expect(res.status, `${ct}: ${JSON.stringify(res.body)}`).toBe(201);
      expect(res.body.task.title).toBe(`acme/api: ct ${ct}`);
    }
  });

  it('accepts upper-case hex and a SHA256= prefix in any case', async () => {
    const raw = JSON.stringify(pushPayload('upper'));
    const sig = sign(GH_SECRET, raw).replace('sha256=', 'SHA256=').toUpperCase();
    expect((await hook({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sig }) })).status).toBe(201);
  });
});

describe('a refused signature: 401 invalid_signature, nothing stored', () => {
  const raw = JSON.stringify(pushPayload('refused'));
  const cases: Array<[string, () => HookCall]> = [
    ['a wrong secret', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign('not-the-secret', raw) }) })],
    ['a truncated body', () => ({ body: raw.slice(0, -5), headers: gh(raw) })],
    [
      'a signature over a different body',
      () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign(GH_SECRET, raw.replace('refused', 'Refused')) }) }),
    ],
    ['one more byte of whitespace', () => ({ body: `${raw} `, headers: gh(raw) })],
    [
      'no signature',
      () => {
        const h: Record<string, string> = gh(raw);
        delete h['x-hub-signature-256'];
        return { body: raw, headers: h };
      },
    ],
    ['a signature of the wrong length (31 bytes)', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign(GH_SECRET, raw).slice(0, -2) }) })],
    ['a signature of the wrong length (33 bytes)', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': `${sign(GH_SECRET, raw)}00` }) })],
    ['an odd number of hex digits', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign(GH_SECRET, raw).slice(0, -1) }) })],
    ['sha1= instead of sha256=', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign(GH_SECRET, raw).replace('sha256=', 'sha1=') }) })],
    ['the bare hex', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign(GH_SECRET, raw).slice(7) }) })],
    ['an empty header', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': '' }) })],
    ['another source’s secret', () => ({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign(CI_SECRET, raw) }) })],
    [
      'the signature in another header',
      () => ({ body: raw, headers: { ...gh(raw, { 'x-hub-signature-256': 'sha256=00' }), 'x-signature': sign(GH_SECRET, raw) } }),
    ],
    ['an empty body signed as something', () => ({ body: '', headers: gh(raw) })],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const before = await stored();
      const res = await hook(make());
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body).toMatchObject({ code: 'invalid_signature', error: expect.any(String) });
      expect(await stored()).toEqual(before);
    });
  }

  it('also when the body is not JSON or not an object (the signature comes first)', async () => {
    const before = await stored();
    for (const body of ['not json', '[1,2]']) {
      const res = await hook({ body, headers: gh(body, { 'x-hub-signature-256': sign('wrong', body) }) });
      expect(res.status).toBe(401);
    }
    expect(await stored()).toEqual(before);
  });
});

describe('other refusals and the ignored', () => {
  it('an unknown source → 404, also names of Object.prototype', async () => {
    for (const source of ['gitlab', '__proto__', 'constructor', 'toString']) {
      const raw = '{}';
      const res = await hook({ source, body: raw, headers: gh(raw) });
      expect(res.status, source).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it('an event not listed → 202 {"ignored": true}, nothing stored (also a missing event header)', async () => {
    const before = await stored();
    const raw = JSON.stringify(pushPayload('ignored'));
    const ignored = await hook({ body: raw, headers: gh(raw, { 'x-github-event': 'issues' }) });
    expect(ignored).toEqual({ status: 202, body: { ignored: true } });
    const h: Record<string, string> = gh(raw);
    delete h['x-github-event'];
    expect(await hook({ body: raw, headers: h })).toEqual({ status: 202, body: { ignored: true } });
    expect(await stored()).toEqual(before);
  });

  it('a signed body that is not a JSON object → 400; a missing delivery header → 400; nothing stored', async () => {
    const before = await stored();
    for (const body of ['not json', '[1,2]', '"text"', '42', 'null', '', '{"a":"\\u0000"}']) {
      const res = await hook({ body, headers: gh(body) });
      expect(res.status, `${body}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    const raw = JSON.stringify(pushPayload());
    const h: Record<string, string> = gh(raw);
    delete h['x-github-delivery'];
    const res = await hook({ body: raw, headers: h });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/X-GitHub-Delivery/);
    expect(await stored()).toEqual(before);
  });

  it('a payload that fills an invalid task (empty title, too long) → 422 invalid_payload, nothing stored', async () => {
    const before = await stored();
    for (const payload of [{ other: 1 }, { title: '   ' }, { title: 'x'.repeat(501) }]) {
      const raw = JSON.stringify(payload);
      const res = await hook({ source: 'plain', body: raw, headers: { 'x-signature': sign(PLAIN_SECRET, raw) } });
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.code).toBe('invalid_payload');
      expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'title' })]));
    }
    expect(await stored()).toEqual(before);
    // A source without delivery_header creates a task per delivery.
    const raw = JSON.stringify({ title: 'hello' });
    for (let i = 0; i < 2; i++) expect((await hook({ source: 'plain', body: raw, headers: { 'x-signature': sign(PLAIN_SECRET, raw) } })).status).toBe(201);
    expect((await stored()).tasks).toBe(before.tasks + 2);
  });
});

describe('the template', () => {
  it('carries every Task field of a create body, heartbeat_timeout_ms included', async () => {
    const raw = JSON.stringify({ title: 'beat' });
    const res = await hook({ source: 'beating', body: raw, headers: { 'x-signature': sign(PLAIN_SECRET, raw) } });
    expect(res.status).toBe(201);
    expect(res.body.task).toMatchObject({ title: 'beat', timeout_ms: 60_000, heartbeat_timeout_ms: 5000, max_retries: 1 });
  });
});

describe('replays of a delivery id', () => {
  it('sequential: 201, then 200 with the first task; one task, one delivery row', async () => {
    const raw = JSON.stringify(pushPayload('replayed'));
    const headers = gh(raw);
    const before = await stored();
    const first = await hook({ body: raw, headers });
    expect(first.status).toBe(201);
    const again = await hook({ body: raw, headers });
    expect(again.status).toBe(200);
    expect(again.body.task.id).toBe(first.body.task.id);
    // A replay with a different (signed) body under the same id still creates nothing.
    const other = JSON.stringify(pushPayload('other body'));
    const third = await hook({ body: other, headers: { ...headers, 'x-hub-signature-256': sign(GH_SECRET, other) } });
    expect(third.status).toBe(200);
    expect(third.body.task.id).toBe(first.body.task.id);
    const after = await stored();
    expect(after.tasks).toBe(before.tasks + 1);
    expect(after.deliveries).toBe(before.deliveries + 1);
    expect(after.events).toBe(before.events + 1); // the one created event
  });

  it('10 at once: one 201, nine 200, all the same task, one task row', async () => {
    const raw = JSON.stringify(pushPayload('concurrent'));
    const headers = gh(raw);
    const before = await stored();
    const results = await Promise.all(Array.from({ length: 10 }, () => hook({ body: raw, headers })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.task.id)).size).toBe(1);
    const after = await stored();
    expect(after.tasks).toBe(before.tasks + 1);
    expect(after.deliveries).toBe(before.deliveries + 1);
    const [n] = await t.sql<{ n: number }[]>`select count(*) as n from tasks where title = 'acme/api: concurrent'`;
    expect(n!.n).toBe(1);
  });

  it('the same delivery id from two sources is two deliveries', async () => {
    const id = randomUUID();
    const raw = JSON.stringify(pushPayload('two sources'));
    const a = await hook({ body: raw, headers: gh(raw, { 'x-github-delivery': id }) });
    const b = await hook({ source: 'ci', body: raw, headers: { 'x-signature': sign(CI_SECRET, raw), 'x-delivery': id } });
    expect([a.status, b.status]).toEqual([201, 201]);
  });

  it('ids past the retention window are forgotten by housekeeping', async () => {
    const raw = JSON.stringify(pushPayload('old'));
    const headers = gh(raw);
    expect((await hook({ body: raw, headers })).status).toBe(201);
    await t.sql`update hook_deliveries set created_at = created_at - interval '8 days' where delivery_id = ${headers['x-github-delivery']}`;
    const housekeeping = t.dispatch.components.find((c) => c.name === 'housekeeping') as unknown as { runOnce(): Promise<number> };
    expect(await housekeeping.runOnce()).toBeGreaterThanOrEqual(1);
    const [n] = await t.sql<{ n: number }[]>`select count(*) as n from hook_deliveries where delivery_id = ${headers['x-github-delivery']}`;
    expect(n!.n).toBe(0);
  });
});

describe('a workflow source', () => {
  it('starts a run with the payload as context.payload; a replay returns the run', async () => {
    const payload = { branch: 'feature/x', sha: 'abc123', files: [{ path: 'a.ts' }] };
    const raw = JSON.stringify(payload);
    const headers = { 'x-signature': sign(CI_SECRET, raw), 'x-delivery': randomUUID() };
    const before = await stored();
    const res = await hook({ source: 'ci', body: raw, headers });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const run = res.body.run;
    expect(run).toMatchObject({ workflow_key: 'ci_review', requester: 'ci', status: 'running', context: { branch: 'feature/x', payload } });
    const build = run.steps.find((s: { step_id: string }) => s.step_id === 'build');
    const task = await t.call('GET', `/api/v1/tasks/${build.task_id}`);
    expect(task.body).toMatchObject({ status: 'pending', requester: 'ci', workflow_run_id: run.id, context: { payload } });
    const again = await hook({ source: 'ci', body: raw, headers });
    expect(again.status).toBe(200);
    expect(again.body.run.id).toBe(run.id);
    const after = await stored();
    expect(after.runs).toBe(before.runs + 1);
    expect(after.tasks).toBe(before.tasks + 2);
  });
});

describe('the secret in logs', () => {
  it('never appears, while the deliveries and the configuration are logged', async () => {
    const raw = JSON.stringify(pushPayload('logged'));
    await hook({ body: raw, headers: gh(raw) });
    await hook({ body: raw, headers: gh(raw, { 'x-hub-signature-256': sign('wrong', raw) }) });
    await hook({ source: 'ci', body: raw, headers: { 'x-signature': sign('wrong', raw), 'x-delivery': 'd1' } });
    // Even an unredacted config object handed to the logger by mistake.
    t.dispatch.context.logger.info({ config: t.config }, 'oops');
    const text = lines.join('');
    expect(text).toMatch(/configuration loaded/);
    expect(text).toMatch(/webhook delivery created a task/);
    expect(text).toMatch(/signature missing or wrong/);
    for (const secret of [GH_SECRET, CI_SECRET, PLAIN_SECRET]) expect(text).not.toContain(secret);
  });
});

describe('intake configuration', () => {
  const base = { secret: 's', signature_header: 'X-Sig' };
  const problemsOf = (intake: unknown, env: Record<string, string> = {}) => {
    try {
      loadConfig({ file: null, env, overrides: { intake } });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    throw new Error('expected a ConfigError');
  };

  it('lists every problem at once, naming the source and key, never the secret', () => {
    const problems = problemsOf({
      ok: { ...base, task: { title: 'fine {{x}}' } },
      nosecret: { signature_header: 'X-Sig', task: { title: 't' } },
      'Bad Name': { ...base, task: { title: 't' } },
      numbertitle: { ...base, task: { title: 5 } },
      both: { ...base, task: { title: 't' }, workflow: { key: 'k' } },
      neither: { ...base },
      unknownkey: { ...base, task: { title: 't' }, colour: 'blue' },
      misspelt: { ...base, task: { titel: 't' } },
      badpriority: { ...base, task: { title: 't', priority: '{{p}}' } },
      deps: { ...base, task: { title: 't', depends_on: [] } },
      noheader: { secret: 'top-secret-value', task: { title: 't' } },
      events: { ...base, events: ['push'], task: { title: 't' } },
      badkey: { ...base, workflow: { key: 'Not A Key', extra: 1 } },
      longbeat: { ...base, task: { title: 't', timeout_ms: 5000, heartbeat_timeout_ms: 6000 } },
      notamap: 'x',
    });
    const text = problems.join('\n');
    for (const expected of [
      /intake\.nosecret\.secret is required/,
      /intake\.Bad Name: the source name must be/,
      /intake\.numbertitle\.task\.title must be string/,
      /intake\.both needs exactly one of task or workflow/,
      /intake\.neither needs exactly one of task or workflow/,
      /intake\.unknownkey has unknown key\(s\) colour/,
      /intake\.misspelt\.task\.titel is not a task field/,
      /intake\.misspelt\.task\.title is required/,
      /intake\.badpriority\.task\.priority must be integer/,
      /intake\.deps\.task\.depends_on is not accepted/,
      /intake\.noheader\.signature_header is required/,
      /intake\.events\.events needs event_header/,
      /intake\.badkey\.workflow has unknown key\(s\) extra/,
      /intake\.badkey\.workflow\.key must be a workflow key/,
      /intake\.longbeat\.task\.heartbeat_timeout_ms must be 1000\.\.timeout_ms \(5000\) inclusive/,
      /intake\.notamap must be a mapping/,
    ]) {
      expect(text).toMatch(expected);
    }
    expect(text).not.toMatch(/intake\.ok/);
    expect(text).not.toContain('top-secret-value');
  });

  it('refuses an intake that is not a mapping, with the other problems', () => {
    const problems = problemsOf(['a'], { DISPATCH_PORT: 'abc' });
    expect(problems.join('\n')).toMatch(/intake/);
    expect(problems.join('\n')).toMatch(/server\.port/);
  });

  it('takes a secret from DISPATCH_INTAKE_<SOURCE>_SECRET, and redacts it', () => {
    const c = loadConfig({
      file: null,
      env: { DISPATCH_INTAKE_MY_CI_SECRET: 'from-env' },
      overrides: { intake: { 'my-ci': { signature_header: 'X-Sig', workflow: { key: 'k' } } } },
    });
    expect(c.intake['my-ci']!.secret).toBe('from-env');
    expect(c.intake['my-ci']!.requester).toBeUndefined();
    expect(JSON.stringify(redactedConfig(c))).not.toContain('from-env');
    expect(c.intake['my-ci']!.secret).toBe('from-env'); // the original is untouched
  });
});

describe('limits of the hook route', () => {
  it('rate-limits per client address (not per agent), 429 with nothing stored; a body over body_limit_bytes → 413', async () => {
    // The limiter's clock is performance.now(), faked: the bucket refills only when the test moves time.
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      await using app = await startApp({
        config: { intake: { plain: INTAKE.plain } as never, server: { rate_limit_per_second: 1, rate_limit_burst: 2, body_limit_bytes: 4096 } },
      });
      const send = (raw: string) =>
        request(`${app.apiUrl}/api/v1/hooks/plain`, { method: 'POST', headers: { 'x-signature': sign(PLAIN_SECRET, raw) }, body: raw }).then(async (r) => ({
          status: r.statusCode,
          body: await r.body.json(),
        }));
      const big = JSON.stringify({ title: 'big', pad: 'x'.repeat(5000) });
      const tooLarge = await send(big);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body).toMatchObject({ code: 'payload_too_large' });
      expect((await send(JSON.stringify({ title: 'one' }))).status).toBe(201);
      const limited = await send(JSON.stringify({ title: 'two' }));
      expect(limited.status).toBe(429);
      expect(limited.body).toMatchObject({ code: 'rate_limited', details: { retry_after_s: 1 } });
      // An agent from the same address has its own bucket.
      expect((await app.call('GET', '/api/v1/tasks', { agent: 'someone' })).status).toBe(200);
      const [n] = await app.sql<{ n: number }[]>`select count(*) as n from tasks`;
      expect(n!.n).toBe(1);
      vi.advanceTimersByTime(1000);
      expect((await send(JSON.stringify({ title: 'three' }))).status).toBe(201);
    } finally {
      vi.useRealTimers();
    }
  });
});
