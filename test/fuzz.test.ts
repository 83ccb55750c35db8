// Bad input (issue 6): property-based requests generated from the committed openapi.yaml, plus
// hand-picked hostile ones, against a running Dispatch. For every request: never a 5xx, never
// a hang, every error in the contract's shape {error, code[, details]}, and a refused request
// leaves the database exactly as it was (tasks, task_events, idempotency keys).
// `npm test` runs a short sweep (DISPATCH_FUZZ_RUNS, default 150); `npm run fuzz` a long one.
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startApp, type TestApp } from './helpers/app.js';
import { AuthFailureLimiter } from '../src/http/auth.js';
import { insertTask } from './helpers/factories.js';
import { quiesce } from './helpers/wait.js';
import { bodyFor, hostileString, loadOperations, queryFor, type Operation } from './helpers/openapi-arbitraries.js';

const RUNS = Number(process.env.DISPATCH_FUZZ_RUNS ?? 150);
const SEED = process.env.DISPATCH_FUZZ_SEED ? Number(process.env.DISPATCH_FUZZ_SEED) : undefined;
/** A response slower than this counts as a hang. */
const HANG_MS = 10_000;
const OPENAPI = fileURLToPath(new URL('../openapi.yaml', import.meta.url));
const ERROR_KEYS = ['error', 'code', 'details'];

const operations = loadOperations(OPENAPI).filter((o) => o.path.startsWith('/api/v1/'));

let t: TestApp;
let ids: string[] = [];
/** auth.mode of the app under test; in token mode the fixed agents send their tokens. */
let mode: 'header' | 'token' = 'header';
const tokenOf = new Map<string, string>();
const FIXED_AGENTS = ['fuzz-boss', 'fuzz-worker', 'someone-else', 'a.b:c@d-e_f'];

interface Sent {
  status: number;
  body: any;
  text: string;
  ms: number;
}

interface Req {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
}

async function send(r: Req): Promise<Sent> {
  // A valid wait holds the request by design (long-poll, await): at most 1 s here, so a hold is
  // not taken for a hang. Invalid values (out of range, not a number) go through unchanged.
  if (r.query?.wait !== undefined && /^\d+$/.test(r.query.wait) && Number(r.query.wait) > 1) r.query = { ...r.query, wait: '1' };
  const qs = r.query && Object.keys(r.query).length ? `?${new URLSearchParams(r.query).toString()}` : '';
  const t0 = performance.now();
  const res = await request(`${t.apiUrl}${r.path}${qs}`, {
    method: r.method as never,
    headers: r.headers,
    body: r.body,
    headersTimeout: HANG_MS,
    bodyTimeout: HANG_MS,
  });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, body, text, ms: performance.now() - t0 };
}

/**
 * What a refused request must not change. The scheduler may announce `unmatched` (and note the
 * reason on the row) in the background at any time, so those are left out.
 */
async function fingerprint(): Promise<string> {
  const [r] = await t.sql<{ f: string }[]>`
    select concat_ws('/',
      (select count(*) from tasks),
      (select count(*) from task_events where type <> 'unmatched'),
      (select count(*) from idempotency_keys),
      (select count(*) from workflows), (select count(*) from workflow_runs), (select count(*) from run_idempotency_keys),
      (select count(*) from agent_tokens), (select count(*) from agent_tokens where revoked_at is not null),
      (select md5(coalesce(string_agg(concat_ws('|', id, status, assignee, priority, retry_count, context::text, result::text, progress::text),
                                      ',' order by id), '')) from tasks)) as f`;
  return r!.f;
}

/**
 * After an accepted request, background work (assignment, events) may follow: wait until the
 * app's loops are quiet (quiesce: no sleeping), then take the fingerprint.
 */
async function settle(): Promise<string> {
  await quiesce(t);
  return fingerprint();
}

function expectContract(req: Req, res: Sent): void {
  const what = `${req.method} ${req.path} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, what).toBeLessThan(500);
  expect(res.ms, what).toBeLessThan(HANG_MS);
  if (res.status >= 400) {
    expect(res.body, what).toMatchObject({ error: expect.any(String), code: expect.stringMatching(/^[a-z][a-z0-9_]*$/) });
    expect(
      Object.keys(res.body).filter((k) => !ERROR_KEYS.includes(k)),
      what,
    ).toEqual([]);
  }
}

/** Send, check the contract, and check that a refusal changed nothing. */
async function probe(req: Req): Promise<Sent> {
  const before = await settle();
  const res = await send(req);
  expectContract(req, res);
  if (res.status >= 400) expect(await fingerprint(), `refused ${req.method} ${req.path} changed the database`).toBe(before);
  return res;
}

const agentHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('fuzz-boss', 'fuzz-worker', 'someone-else', 'a.b:c@d-e_f') },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(129)) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);

/** encodeURIComponent, except that a lone surrogate goes out as raw (invalid UTF-8) escapes. */
function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

const idSegment = fc.oneof(
  { weight: 6, arbitrary: fc.constant('KNOWN') },
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: hostileString.map((s) => safeEncode(s)) },
  { weight: 1, arbitrary: fc.constantFrom('00000000-0000-0000-0000-000000000000', 'not-a-uuid', '1', '%00', '..', 'x'.repeat(2000)) },
);

function requestFor(op: Operation): fc.Arbitrary<Req> {
  return fc
    .record({
      agent: agentHeader,
      admin: fc.boolean(),
      id: idSegment,
      known: fc.nat(),
      query: queryFor(op.query),
      body: op.body ? fc.option(bodyFor(op.body), { nil: undefined, freq: 12 }) : fc.constant(undefined),
      idempotencyKey: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })), { freq: 3 }),
      contentType: fc.constantFrom(
        'application/json',
        'application/json',
        'application/json',
        'application/json; charset=utf-8',
        'text/plain',
        'application/x-www-form-urlencoded',
      ),
    })
    .map((g) => {
      const id = g.id === 'KNOWN' ? ids[g.known % ids.length]! : g.id;
      const headers: Record<string, string> = {};
      if (mode === 'header') {
        if (g.agent !== null) headers['x-agent-id'] = g.agent;
        if (g.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      } else if (g.admin) {
        headers.authorization = `Bearer ${ADMIN_TOKEN}`;
        if (g.agent !== null) headers['x-agent-id'] = g.agent;
      } else if (g.agent !== null) {
        // The agent's own token (or a guess for an agent that has none), with X-Agent-ID left
        // out, matching, or naming another agent (→ 403 agent_mismatch).
        headers.authorization = `Bearer ${tokenOf.get(g.agent) ?? `dsp_${g.agent.length}`}`;
        const other = FIXED_AGENTS[g.known % FIXED_AGENTS.length]!;
        if (g.known % 3 === 1) headers['x-agent-id'] = g.agent;
        if (g.known % 3 === 2) headers['x-agent-id'] = other;
      }
      if (g.idempotencyKey !== null && op.method === 'POST') headers['idempotency-key'] = g.idempotencyKey;
      let body: string | undefined;
      if (g.body !== undefined) {
        body = JSON.stringify(g.body);
        headers['content-type'] = g.contentType;
      }
      return { method: op.method, path: op.path.replace('{id}', id), query: g.query, headers, ...(body !== undefined ? { body } : {}) };
    });
}

/** Headers undici refuses to send (CR/LF, NUL, non-Latin-1) never reach the service. */
function isClientSideRefusal(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'UND_ERR_INVALID_ARG' || err instanceof TypeError;
}

beforeAll(async () => {
  t = await startApp({ config: { server: { rate_limit_per_second: 1_000_000, rate_limit_burst: 1_000_000 } } });
  const rows = await Promise.all([
    insertTask(t.sql, { requester: 'fuzz-boss' }),
    insertTask(t.sql, { requester: 'fuzz-boss', status: 'assigned', assignee: 'fuzz-worker' }),
    insertTask(t.sql, { requester: 'fuzz-boss', status: 'running', assignee: 'fuzz-worker' }),
    insertTask(t.sql, { requester: 'fuzz-boss', status: 'completed' }),
    insertTask(t.sql, { requester: 'someone-else', status: 'cancelled' }),
  ]);
  ids = rows.map((r) => r.id);
});
afterAll(async () => t?.stop());

describe('requests generated from openapi.yaml', () => {
  it('covers every /api/v1 operation of the document', () => {
    const names = operations.map((o) => o.operationId);
    for (const op of ['createTask', 'listTasks', 'getTask', 'patchTask', 'completeTask', 'failTask', 'reportProgress', 'taskEvents']) {
      expect(names).toContain(op);
    }
  });

  it(
    `never a 5xx, a hang or an off-contract error; refusals change nothing (${RUNS} runs)`,
    async () => {
      const arb = fc.oneof(...operations.map((op) => requestFor(op)));
      let accepted = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          let res: Sent;
          try {
            res = await probe(req);
          } catch (err) {
            if (isClientSideRefusal(err)) return;
            throw err;
          }
          if (res.status < 400) accepted++;
          else refused++;
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true },
      );
      // The generator must reach both sides of validation, or it proves nothing.
      expect(refused).toBeGreaterThan(0);
      expect(accepted).toBeGreaterThan(0);
    },
    Math.max(30_000, RUNS * 200),
  );
});

describe('requests generated from openapi.yaml, in auth.mode=token', () => {
  let header: TestApp;
  let headerIds: string[] = [];
  beforeAll(async () => {
    header = t;
    headerIds = ids;
    t = await startApp({
      config: { auth: { mode: 'token' }, server: { rate_limit_per_second: 1_000_000, rate_limit_burst: 1_000_000 } },
      // The generator fails authentication on purpose, far more than 20 times a minute.
      authFailures: new AuthFailureLimiter(undefined, Number.MAX_SAFE_INTEGER),
    });
    for (const agent of FIXED_AGENTS) {
      const res = await request(`${t.apiUrl}/api/v1/agents/${agent}/tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      tokenOf.set(agent, ((await res.body.json()) as { token: string }).token);
    }
    const rows = await Promise.all([
      insertTask(t.sql, { requester: 'fuzz-boss' }),
      insertTask(t.sql, { requester: 'fuzz-boss', status: 'running', assignee: 'fuzz-worker' }),
      insertTask(t.sql, { requester: 'someone-else', status: 'failed' }),
    ]);
    ids = rows.map((r) => r.id);
    mode = 'token';
  });
  afterAll(async () => {
    mode = 'header';
    await t.stop();
    t = header;
    ids = headerIds;
  });

  it(
    `never a 5xx, a hang or an off-contract error; refusals change nothing (${RUNS} runs)`,
    async () => {
      const arb = fc.oneof(...operations.map((op) => requestFor(op)));
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          try {
            statuses.add((await probe(req)).status);
          } catch (err) {
            if (isClientSideRefusal(err)) return;
            throw err;
          }
        }),
        { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true },
      );
      // Both sides of authentication were reached: accepted requests, 401s and 403s.
      expect([...statuses].some((x) => x < 400)).toBe(true);
      expect(statuses.has(401)).toBe(true);
      expect(statuses.has(403)).toBe(true);
    },
    Math.max(30_000, RUNS * 200),
  );
});

describe('hostile requests', () => {
  // Their own tasks: the property above may have moved the shared ones along.
  let own: string[] = [];
  beforeAll(async () => {
    const rows = [
      await insertTask(t.sql, { requester: 'fuzz-boss' }),
      await insertTask(t.sql, { requester: 'fuzz-boss', status: 'assigned', assignee: 'fuzz-worker' }),
      await insertTask(t.sql, { requester: 'fuzz-boss', status: 'running', assignee: 'fuzz-worker' }),
      await insertTask(t.sql, { requester: 'fuzz-boss', status: 'completed' }),
    ];
    own = rows.map((r) => r.id);
  });
  const json = (v: unknown) => JSON.stringify(v);
  const agent = { 'x-agent-id': 'fuzz-boss', 'content-type': 'application/json' };
  const create = (body: string, headers: Record<string, string | string[]> = agent): Req => ({ method: 'POST', path: '/api/v1/tasks', headers, body });
  const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

  const cases: Array<[string, () => Req, number?]> = [
    ['a 2 MiB body', () => create(json({ title: 't', description: 'x'.repeat(2 * 1024 * 1024) })), 413],
    ['a 2 MiB body without Content-Length (chunked)', () => create(json({ title: 't', context: { a: 'y'.repeat(2 * 1024 * 1024) } })), 413],
    ['context nested 5,000 deep', () => create(`{"title":"t","context":${nested(5000)}}`)],
    ['context nested 100,000 deep (over the body limit or refused)', () => create(`{"title":"t","context":${nested(100_000)}}`)],
    ['an array nested 50,000 deep', () => create(`{"title":"t","context":{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}}`)],
    ['NUL in the title', () => create(json({ title: 'a\u0000b' }))],
    ['NUL in a context key and value', () => create(json({ title: 't', context: { 'k\u0000': 'v\u0000' } }))],
    ['an escaped NUL in JSON', () => create('{"title":"t","description":"\\u0000"}')],
    ['a lone surrogate', () => create('{"title":"\\ud800"}')],
    ['a lone surrogate in a context key', () => create('{"title":"t","context":{"\\udc00":1}}')],
    ['emoji, RTL and combining marks', () => create(json({ title: '👩‍👩‍👧‍👦 \u202e Z̷̢̛̙ 𝕯', scope: 'ǅ', capabilities: ['İ', 'ß'] }))],
    [
      'SQL in every string',
      () => create(json({ title: "'; drop table tasks; --", scope: "' or 1=1 --", owner: '$1', capabilities: ["'); delete from tasks; --"] })),
    ],
    ['__proto__ and constructor keys', () => create('{"title":"t","__proto__":{"admin":true},"context":{"constructor":{"prototype":{"x":1}}}}')],
    ['duplicate keys', () => create('{"title":"a","title":"b","priority":1,"priority":99}')],
    ['priority 1e400', () => create('{"title":"t","priority":1e400}')],
    ['priority -0', () => create('{"title":"t","priority":-0}')],
    ['timeout_ms 2^63', () => create('{"title":"t","timeout_ms":9223372036854775808}')],
    ['10,000 context keys', () => create(json({ title: 't', context: Object.fromEntries(Array.from({ length: 10_000 }, (_, k) => [`k${k}`, k])) }))],
    ['invalid JSON', () => create('{"title": "t",')],
    ['an empty JSON body', () => create('')],
    ['a JSON null body', () => create('null')],
    ['a JSON string body', () => create('"title"')],
    ['text/plain', () => create(json({ title: 't' }), { 'x-agent-id': 'a', 'content-type': 'text/plain' })],
    ['JSON declared UTF-16', () => create(json({ title: 't' }), { 'x-agent-id': 'a', 'content-type': 'application/json; charset=utf-16' })],
    ['a form body', () => create('title=t', { 'x-agent-id': 'a', 'content-type': 'application/x-www-form-urlencoded' })],
    ['no X-Agent-ID', () => create(json({ title: 't' }), { 'content-type': 'application/json' })],
    ['an X-Agent-ID of 129 chars', () => create(json({ title: 't' }), { 'x-agent-id': 'a'.repeat(129), 'content-type': 'application/json' })],
    ['an X-Agent-ID with spaces', () => create(json({ title: 't' }), { 'x-agent-id': 'a b', 'content-type': 'application/json' })],
    ['an X-Agent-ID in Latin-1', () => create(json({ title: 't' }), { 'x-agent-id': 'agent-\u00e9', 'content-type': 'application/json' })],
    ['two X-Agent-ID headers', () => create(json({ title: 't' }), { 'x-agent-id': ['a', 'b'], 'content-type': 'application/json' })],
    ['an 8 KiB Idempotency-Key', () => create(json({ title: 't' }), { ...agent, 'idempotency-key': 'k'.repeat(8 * 1024) })],
    [
      'a wrong admin token of 8 KiB',
      () => ({ method: 'GET', path: '/api/v1/stats', headers: { 'x-agent-id': 'a', authorization: `Bearer ${'t'.repeat(8 * 1024)}` } }),
    ],
    [
      'a Basic admin credential',
      () => ({
        method: 'GET',
        path: '/api/v1/stats',
        headers: { 'x-agent-id': 'a', authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` },
      }),
    ],
    ['a 4,000-char id', () => ({ method: 'GET', path: `/api/v1/tasks/${'1'.repeat(4000)}`, headers: { 'x-agent-id': 'a' } }), 400],
    ['a malformed %-escape in the id', () => ({ method: 'GET', path: '/api/v1/tasks/%E0%A4%A', headers: { 'x-agent-id': 'a' } }), 400],
    ['NUL in a query filter', () => ({ method: 'GET', path: '/api/v1/tasks', query: { owner: 'a\u0000b' }, headers: { 'x-agent-id': 'a' } })],
    ['an id with an encoded slash', () => ({ method: 'GET', path: '/api/v1/tasks/..%2f..%2fstats', headers: { 'x-agent-id': 'a' } })],
    ['an upper-case UUID', () => ({ method: 'GET', path: `/api/v1/tasks/${own[0]!.toUpperCase()}`, headers: { 'x-agent-id': 'a' } })],
    ['limit=1e309', () => ({ method: 'GET', path: '/api/v1/tasks', query: { limit: '1e309' }, headers: { 'x-agent-id': 'a' } })],
    ['limit=-1', () => ({ method: 'GET', path: '/api/v1/tasks', query: { limit: '-1' }, headers: { 'x-agent-id': 'a' } })],
    ['a garbage cursor', () => ({ method: 'GET', path: '/api/v1/tasks', query: { cursor: "eyJ4IjoiJzsgZHJvcCJ9'--" }, headers: { 'x-agent-id': 'a' } })],
    [
      'a cursor of JSON with SQL',
      () => ({
        method: 'GET',
        path: '/api/v1/tasks',
        query: { cursor: Buffer.from(json({ created_at: "'; drop table tasks; --", id: 'x' })).toString('base64url') },
        headers: { 'x-agent-id': 'a' },
      }),
    ],
    [
      'an unknown status filter',
      () => ({ method: 'GET', path: '/api/v1/tasks', query: { status: "pending,'; drop table tasks; --" }, headers: { 'x-agent-id': 'a' } }),
    ],
    [
      '200 repeated query parameters',
      () => ({ method: 'GET', path: `/api/v1/tasks?${Array.from({ length: 200 }, () => 'status=pending').join('&')}`, headers: { 'x-agent-id': 'a' } }),
    ],
    [
      'complete by a stranger',
      () => ({ method: 'POST', path: `/api/v1/tasks/${own[1]}/complete`, headers: { ...agent, 'x-agent-id': 'stranger' }, body: '{}' }),
      403,
    ],
    [
      'complete on a terminal task',
      () => ({ method: 'POST', path: `/api/v1/tasks/${own[3]}/complete`, headers: { ...agent, 'x-agent-id': 'fuzz-worker' }, body: '{}' }),
      409,
    ],
    [
      'a result of 2 MiB',
      () => ({
        method: 'POST',
        path: `/api/v1/tasks/${own[2]}/complete`,
        headers: { ...agent, 'x-agent-id': 'fuzz-worker' },
        body: json({ result: 'r'.repeat(2 * 1024 * 1024) }),
      }),
      413,
    ],
    [
      'progress percent 101',
      () => ({ method: 'POST', path: `/api/v1/tasks/${own[2]}/progress`, headers: { ...agent, 'x-agent-id': 'fuzz-worker' }, body: json({ percent: 101 }) }),
      400,
    ],
    ['PATCH status "completed"', () => ({ method: 'PATCH', path: `/api/v1/tasks/${own[0]}`, headers: agent, body: json({ status: 'completed' }) }), 400],
    ['an unknown method', () => ({ method: 'PUT', path: '/api/v1/tasks', headers: agent, body: '{}' })],
    ['an unknown path', () => ({ method: 'GET', path: "/api/v1/'; drop table tasks; --", headers: agent })],
  ];

  for (const [name, make, status] of cases) {
    it(name, async () => {
      const req = make();
      const res = await probe(req);
      if (status !== undefined) expect(res.status, res.text.slice(0, 200)).toBe(status);
    });
  }

  it('a 32 KiB header gets a clean refusal and the service keeps serving', async () => {
    const before = await settle();
    let status: number | undefined;
    try {
      status = (await send({ method: 'GET', path: '/api/v1/tasks', headers: { 'x-agent-id': 'a', 'x-filler': 'f'.repeat(32 * 1024) } })).status;
    } catch {
      status = undefined; // the connection closed: also a refusal
    }
    if (status !== undefined) expect(status).toBeGreaterThanOrEqual(400);
    if (status !== undefined) expect(status).toBeLessThan(500);
    expect(await fingerprint()).toBe(before);
    expect((await send({ method: 'GET', path: '/api/v1/tasks', headers: { 'x-agent-id': 'a' } })).status).toBe(200);
  });

  it('50 hostile requests at once: all answered, none a 5xx', async () => {
    const reqs = cases.slice(0, 50).map(([, make]) => make());
    const results = await Promise.all(reqs.map((r) => send(r)));
    results.forEach((res, k) => expectContract(reqs[k]!, res));
  });
});
