// Neighbours misbehaving: down, slow, garbage. Assignment continues on cached data where that is
// safe, tasks wait where it is not, the loop never stalls, /health names the neighbour, and the
// log says why once.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { startApp } from './helpers/app.js';
import { insertTask } from './helpers/factories.js';
import { eventTypes, schedulerOf, startFakes, waitFor } from './fakes/swarm.js';
import { FakeWarren } from './fakes/warren.js';
import { createHttpClient, UpstreamError } from '../src/clients/http.js';
import { WarrenClient } from '../src/clients/warren.js';
import { PromptForgeClient } from '../src/clients/promptforge.js';
import { AlexandriaClient } from '../src/clients/alexandria.js';
import { AgentDirectory } from '../src/agents/directory.js';
import { Roster } from '../src/clients/roster.js';
import { createMetrics } from '../src/observability/metrics.js';
import type { FailureMode } from './fakes/base.js';

const health = async (opsUrl: string) => (await fetch(`${opsUrl}/health`)).json() as Promise<{ status: string; checks: Record<string, string> }>;

describe('neighbours', () => {
  it('PromptForge down after one good fetch: assignment continues on cached capabilities; /health says promptforge is down', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('cached', ['research'], 'ready');
    await using t = await startApp({ config: { ...fakes.config, promptforge: { url: fakes.promptforge.url, refresh_interval_ms: 50 } } });
    await waitFor(() => t.dispatch.context.agents.cachedAgents().some((a) => a.capabilities.includes('research')), 'first capabilities fetch');
    fakes.promptforge.fail({ kind: 'status', status: 503 });
    await waitFor(async () => (await health(t.opsUrl)).checks.promptforge === 'down', 'promptforge reported down');
    const h = await health(t.opsUrl);
    expect(h).toMatchObject({ status: 'degraded', checks: { database: 'ok', promptforge: 'down', warren: 'ok', alexandria: 'ok' } });
    const task = await insertTask(t.sql, { scope: 'research' });
    await waitFor(async () => (await t.sql`select 1 from tasks where id = ${task.id} and assignee = 'cached'`).length, 'assignment on cached capabilities');
    fakes.promptforge.heal();
    await waitFor(async () => (await health(t.opsUrl)).checks.promptforge === 'ok', 'promptforge back');
  });

  it("owner filter on: a task with owner X goes only to X's agents", async () => {
    await using fakes = await startFakes();
    fakes.addAgent('alice-bot', ['code'], 'ready');
    fakes.addAgent('bob-bot', ['code'], 'ready');
    fakes.alexandria.addDevice('alice', 'alice-bot', 'identifier');
    fakes.alexandria.addDevice('bob', 'bob-bot');
    await using t = await startApp({
      config: { ...fakes.config, assignment: { owner_filter_enabled: true, max_concurrent_per_agent: 20, tick_interval_ms: 60_000 } },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    const alice = await Promise.all(Array.from({ length: 6 }, () => insertTask(t.sql, { scope: 'code', owner: 'alice' })));
    const bob = await Promise.all(Array.from({ length: 3 }, () => insertTask(t.sql, { scope: 'code', owner: 'bob' })));
    const nobody = await insertTask(t.sql, { scope: 'code', owner: 'carol' });
    const r = await s.runOnce();
    const by = new Map(r.assigned.map((a) => [a.taskId, a.agent]));
    for (const x of alice) expect(by.get(x.id)).toBe('alice-bot');
    for (const x of bob) expect(by.get(x.id)).toBe('bob-bot');
    expect(r.unmatched).toEqual([{ taskId: nobody.id, reason: 'no_owned_agent' }]);
    // One Alexandria call per owner, however many tasks.
    expect(fakes.alexandria.count('/api/v1/devices')).toBe(3);
    expect(fakes.alexandria.calls.every((c) => c.headers['x-agent-id'] === 'dispatch')).toBe(true);
  });

  it('Alexandria down and nothing cached: the task waits (ownership_unavailable), never assigned elsewhere', async () => {
    await using fakes = await startFakes();
    fakes.addAgent('dave-bot', ['code'], 'ready');
    fakes.addAgent('other-bot', ['code'], 'ready');
    fakes.alexandria.addDevice('dave', 'dave-bot');
    fakes.alexandria.fail({ kind: 'status', status: 500 });
    await using t = await startApp({ config: { ...fakes.config, assignment: { owner_filter_enabled: true, tick_interval_ms: 60_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const task = await insertTask(t.sql, { scope: 'code', owner: 'dave' });
    for (let i = 0; i < 3; i++) expect((await s.runOnce()).assigned).toEqual([]);
    const [row] = await t.sql`select status, unmatched_reason from tasks where id = ${task.id}`;
    expect(row).toEqual({ status: 'pending', unmatched_reason: 'ownership_unavailable' });
    expect(await eventTypes(t.sql, task.id)).toEqual(['created', 'unmatched']);
    expect((await health(t.opsUrl)).checks.alexandria).toBe('down');
    fakes.alexandria.heal();
    await waitFor(async () => (await s.runOnce()).assigned.length > 0, 'assignment once Alexandria is back');
    const [after] = await t.sql`select assignee from tasks where id = ${task.id}`;
    expect(after!.assignee).toBe('dave-bot');
  });

  it.each<[string, FailureMode]>([
    ['hangs', { kind: 'hang' }],
    ['answers slowly (5 s)', { kind: 'slow', ms: 5000 }],
    ['returns HTML', { kind: 'html' }],
    ['returns truncated JSON', { kind: 'truncated' }],
    ['returns the wrong types', { kind: 'wrong_types' }],
    ['resets connections', { kind: 'reset' }],
  ])('Warren %s: the loop never stalls, tasks wait, /health says warren is down', async (_label, mode) => {
    await using fakes = await startFakes();
    fakes.addAgent('w', ['x'], 'ready');
    fakes.warren.fail(mode);
    await using t = await startApp({
      config: { ...fakes.config, assignment: { tick_interval_ms: 60_000, neighbour_timeout_ms: 400, neighbour_wait_ms: 100 } },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    const task = await insertTask(t.sql, { scope: 'x' });
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      const r = await s.runOnce();
      expect(r.assigned).toEqual([]);
      // Bounded by neighbour_wait_ms, not by the neighbour (generous margin for a busy machine).
      expect(performance.now() - started).toBeLessThan(3000);
    }
    const [row] = await t.sql`select status, unmatched_reason from tasks where id = ${task.id}`;
    expect(row).toEqual({ status: 'pending', unmatched_reason: 'availability_unavailable' });
    await waitFor(async () => (await health(t.opsUrl)).checks.warren === 'down', 'warren reported down', 10_000);
    expect((await health(t.opsUrl)).status).toBe('degraded');
    fakes.warren.heal();
    await waitFor(async () => (await s.runOnce()).assigned.length > 0, 'assignment once Warren is back', 10_000);
  });

  it('a failing neighbour is logged once when it starts failing and once when it recovers, not per tick', async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _e, cb) {
          lines.push(JSON.parse(String(chunk)));
          cb();
        },
      }),
    );
    await using warren = await FakeWarren.start();
    warren.setAgent('a', 'ready');
    const metrics = createMetrics();
    const http = createHttpClient({
      service: 'warren',
      baseUrl: warren.url,
      headers: { authorization: `Bearer ${warren.token}` },
      timeoutMs: 500,
      retries: 0,
      metrics,
      random: () => 0,
    });
    const roster = new Roster([{ id: 'a', name: 'a', capabilities: [], state: 'ready' }]);
    const dir = new AgentDirectory({
      capabilities: roster,
      availability: new WarrenClient(http),
      ownership: roster,
      logger,
      capabilityRefreshMs: 60_000,
      ownershipTtlMs: 60_000,
      waitBudgetMs: 1000,
      availabilityStaleMs: 0,
      wakeHoldMs: 1000,
    });
    warren.fail({ kind: 'status', status: 502 });
    for (let i = 0; i < 5; i++) expect((await dir.snapshot()).availabilityKnown).toBe(false);
    expect(warren.count('/admin/agents')).toBe(5);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines.find((l) => l.level === 40)!.msg).toMatch(/warren call failed/);
    warren.heal();
    for (let i = 0; i < 3; i++) await dir.snapshot();
    expect(lines.filter((l) => /reachable again/.test(l.msg))).toHaveLength(1);
    await http.close();
  });
});

describe('http helper and clients', () => {
  const setup = async (retries = 2) => {
    const warren = await FakeWarren.start();
    const metrics = createMetrics();
    const http = createHttpClient({
      service: 'warren',
      baseUrl: warren.url,
      headers: { authorization: `Bearer ${warren.token}` },
      timeoutMs: 400,
      retries,
      metrics,
      random: () => 0.5,
    });
    return { warren, metrics, http, client: new WarrenClient(http) };
  };

  it('retries 5xx and network failures (bounded), then succeeds; records outcomes', async () => {
    const { warren, metrics, http, client } = await setup();
    warren.setAgent('a', 'ready');
    warren.fail({ kind: 'status', status: 503 }, '', 1);
    warren.fail({ kind: 'reset' }, '/admin', 1);
    expect(await client.listStates()).toEqual(new Map([['a', 'ready']]));
    expect(warren.count('/admin/agents')).toBe(3);
    const outcomes = Object.fromEntries((await metrics.upstreamRequests.get()).values.map((v) => [v.labels.outcome, v.value]));
    expect(outcomes).toEqual({ server_error: 1, network: 1, ok: 1 });
    await http.close();
    await warren.close();
  });

  it('gives up after the retry budget on 5xx; never retries 4xx or garbage', async () => {
    const { warren, http, client } = await setup(2);
    warren.fail({ kind: 'status', status: 500 });
    await expect(client.listStates()).rejects.toMatchObject({ kind: 'server_error', retryable: true });
    expect(warren.count()).toBe(3);
    warren.resetCalls();
    warren.fail({ kind: 'status', status: 400, body: JSON.stringify({ error: 'agent is not on-demand' }) });
    await expect(client.wake('a')).rejects.toMatchObject({ kind: 'client_error', status: 400, retryable: false });
    expect(warren.count()).toBe(1);
    warren.resetCalls();
    warren.fail({ kind: 'html' });
    await expect(client.listStates()).rejects.toMatchObject({ kind: 'bad_response' });
    warren.fail({ kind: 'wrong_types' });
    await expect(client.listStates()).rejects.toBeInstanceOf(UpstreamError);
    expect(warren.count()).toBe(2);
    warren.heal();
    await expect(client.wake('nobody')).rejects.toMatchObject({ kind: 'not_found' });
    await http.close();
    await warren.close();
  });

  it('honours Retry-After on 429, and times out a hanging neighbour', async () => {
    const { warren, http, client } = await setup(1);
    warren.setAgent('a', 'ready');
    warren.fail({ kind: 'status', status: 429, headers: { 'retry-after': '0' } });
    await expect(client.listStates()).rejects.toMatchObject({ kind: 'rate_limited' });
    expect(warren.count()).toBe(2); // retried once after Retry-After
    warren.resetCalls();
    warren.fail({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    await expect(client.listStates()).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 120_000 });
    expect(warren.count()).toBe(1); // too long to wait inside a tick: not retried
    warren.resetCalls();
    warren.fail({ kind: 'hang' });
    const started = performance.now();
    await expect(client.listStates()).rejects.toMatchObject({ kind: 'timeout' });
    expect(performance.now() - started).toBeLessThan(5000);
    await http.close();
    await warren.close();
  });

  it('PromptForge and Alexandria clients read the contract shapes', async () => {
    await using fakes = await startFakes();
    fakes.promptforge.setPersona('scout', 'Research, analysis ,, WEB-search');
    fakes.promptforge.setPersona('blank', null);
    fakes.alexandria.addDevice('o1', 'by-name');
    fakes.alexandria.addDevice('o1', 'by-identifier', 'identifier');
    fakes.alexandria.addDevice('o2', 'not-mine');
    const metrics = createMetrics();
    const pf = createHttpClient({ service: 'promptforge', baseUrl: fakes.promptforge.url, timeoutMs: 1000, metrics, random: () => 0 });
    const al = createHttpClient({
      service: 'alexandria',
      baseUrl: fakes.alexandria.url,
      headers: { 'x-agent-id': 'dispatch' },
      timeoutMs: 1000,
      metrics,
      random: () => 0,
    });
    expect(await new PromptForgeClient(pf).listCapabilities()).toEqual(
      new Map([
        ['scout', { name: 'scout', capabilities: ['research', 'analysis', 'web-search'] }],
        ['blank', { name: 'blank', capabilities: [] }],
      ]),
    );
    expect(await new AlexandriaClient(al).agentsOf('o1')).toEqual(new Set(['by-name', 'device 2', 'serial-1', 'by-identifier']));
    await pf.close();
    await al.close();
  });
});
