// The MCP door (CONTRACT §21.2, docs/agent-doors.md) driven by the official TypeScript SDK's
// Client over its Streamable HTTP transport, end to end against a real Dispatch: a requester
// agent and a worker agent each over MCP, an input-required round trip, and the refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startApp, type TestApp } from './helpers/app.js';
import { counts } from './helpers/tasks-api.js';
import { quiesce } from './helpers/wait.js';

let t: TestApp;
const clients: Client[] = [];

async function mcpClient(base: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'dispatch-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers } }));
  clients.push(client);
  return client;
}

type Call = { structuredContent?: any; isError?: boolean; content?: unknown };
const call = async (c: Client, name: string, args: Record<string, unknown> = {}) => (await c.callTool({ name, arguments: args })) as Call;
const ok = async (c: Client, name: string, args: Record<string, unknown> = {}) => {
  const r = await call(c, name, args);
  expect(r.isError, JSON.stringify(r.structuredContent)).toBeFalsy();
  return r.structuredContent;
};
const refused = async (c: Client, name: string, args: Record<string, unknown>, code: string) => {
  const before = await counts(t.sql);
  const r = await call(c, name, args);
  expect(r.isError).toBe(true);
  expect(r.structuredContent).toMatchObject({ code, error: expect.any(String) });
  expect(await counts(t.sql)).toEqual(before);
  return r.structuredContent;
};

beforeAll(async () => {
  t = await startApp({ config: { agents: [{ id: 'w1', name: 'W1', capabilities: ['summarise'], state: 'ready' }] } });
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await t?.stop();
});

describe('MCP server', () => {
  it('lists the thirteen tools of §21.2, each with an input schema', async () => {
    const alice = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'alice' });
    const { tools } = await alice.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(
      [
        'create_task',
        'get_task',
        'wait_for_task',
        'list_tasks',
        'cancel_task',
        'answer_task',
        'next_assignment',
        'report_progress',
        'complete_task',
        'fail_task',
        'request_input',
        'explain_task',
        'start_workflow',
      ].sort(),
    );
    for (const tool of tools) expect(tool.inputSchema.type).toBe('object');
    expect(tools.find((x) => x.name === 'create_task')!.inputSchema.required).toEqual(['title']);
  });

  it('a requester and a worker over MCP: create, next_assignment, progress, input required and answered, complete, wait_for_task', async () => {
    const alice = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'alice' });
    const w1 = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'w1' });
    const created = await ok(alice, 'create_task', { title: 'Summarise the Q3 report', scope: 'summarise', context: { doc: 'q3.pdf' } });
    expect(created).toMatchObject({ title: 'Summarise the Q3 report', requester: 'alice', scope: 'summarise', context: { doc: 'q3.pdf' } });

    // The worker's long-poll: held until the scheduler assigns the task to it.
    const next = await ok(w1, 'next_assignment', { wait_s: 20 });
    expect(next.task).toMatchObject({ id: created.id, status: 'assigned', assignee: 'w1' });
    expect(await ok(w1, 'report_progress', { id: created.id, message: 'reading', percent: 10 })).toMatchObject({ status: 'running' });
    expect(await ok(w1, 'request_input', { id: created.id, question: 'Which sections?' })).toMatchObject({ status: 'input_required' });

    const waiting = await ok(alice, 'wait_for_task', { id: created.id, timeout_s: 20 });
    expect(waiting).toMatchObject({ status: 'input_required', input: { question: 'Which sections?' } });
    expect(await ok(alice, 'answer_task', { id: created.id, answer: { sections: ['revenue'] } })).toMatchObject({ status: 'running', assignee: 'w1' });

    const answered = await ok(w1, 'next_assignment', { wait_s: 20 });
    expect(answered.task).toMatchObject({ id: created.id, status: 'running', input: { answer: { sections: ['revenue'] } } });
    expect(await ok(w1, 'report_progress', { id: created.id, percent: 90 })).toMatchObject({ progress: { percent: 90 } });
    expect((await ok(w1, 'next_assignment', { wait_s: 0 })).task).toBeNull();

    // The requester waits while the worker completes.
    const result = ok(alice, 'wait_for_task', { id: created.id, timeout_s: 30 });
    expect(await ok(w1, 'complete_task', { id: created.id, result: { summary: 'Revenue up 4%' } })).toMatchObject({ status: 'completed' });
    expect(await result).toMatchObject({ status: 'completed', result: { summary: 'Revenue up 4%' } });

    expect(await ok(alice, 'get_task', { id: created.id })).toMatchObject({ status: 'completed' });
    const listed = await ok(alice, 'list_tasks', { requester: 'alice', status: 'completed' });
    expect(listed.tasks.map((x: { id: string }) => x.id)).toContain(created.id);
    const explained = await ok(alice, 'explain_task', { id: created.id });
    expect(explained).toMatchObject({ task_id: created.id, assigned: { agent: 'w1' } });
    const events = (await t.call('GET', `/api/v1/tasks/${created.id}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(events).toEqual([
      'task.created',
      'task.assigned',
      'task.started',
      'task.progress',
      'task.input_required',
      'task.input_received',
      'task.progress',
      'task.completed',
    ]);
  });

  it('cancel_task, fail_task and start_workflow call the same use cases as REST', async () => {
    const alice = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'alice' });
    const w1 = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'w1' });
    const a = await ok(alice, 'create_task', { title: 'never mind', scope: 'nobody-has-this' });
    expect(await ok(alice, 'cancel_task', { id: a.id })).toMatchObject({ status: 'cancelled' });

    const b = await ok(alice, 'create_task', { title: 'will fail', scope: 'summarise' });
    const got = await ok(w1, 'next_assignment', { wait_s: 20 });
    expect(got.task.id).toBe(b.id);
    expect(await ok(w1, 'fail_task', { id: b.id, error: 'no access', retryable: false })).toMatchObject({ status: 'failed', error: 'no access' });

    const put = await t.call('PUT', '/api/v1/workflows/mcp_flow', {
      agent: 'alice',
      body: { steps: [{ id: 'one', task: { title: 'step one', scope: 'nobody-has-this' } }] },
    });
    expect(put.status).toBe(201);
    const run = await ok(alice, 'start_workflow', { key: 'mcp_flow', context: { k: 1 } });
    expect(run).toMatchObject({ workflow_key: 'mcp_flow', requester: 'alice', status: 'running' });
  });

  it('refusals are tool results with isError and the contract code, nothing stored', async () => {
    const alice = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'alice' });
    const bob = await mcpClient(t.apiUrl, { 'X-Agent-ID': 'bob' });
    await quiesce(t); // the earlier tests' tasks have had their last scheduler event
    await refused(alice, 'delete_everything', {}, 'not_found');
    const bad = await refused(alice, 'create_task', { title: 5 }, 'validation_failed');
    expect(bad.details).toEqual([{ field: 'title', message: 'must be string' }]);
    await refused(alice, 'create_task', { title: 'x', priority: 'high' }, 'validation_failed');
    await refused(alice, 'create_task', { title: 'x', owner_of_everything: true }, 'validation_failed');
    await refused(alice, 'create_task', {}, 'validation_failed');
    await refused(alice, 'get_task', { id: 'not-a-uuid' }, 'validation_failed');
    await refused(alice, 'wait_for_task', { id: '00000000-0000-4000-8000-000000000000', timeout_s: 61 }, 'validation_failed');
    await refused(alice, 'get_task', { id: '00000000-0000-4000-8000-000000000000' }, 'not_found');

    const task = await ok(alice, 'create_task', { title: 'not for bob', scope: 'nobody-has-this' });
    await quiesce(t); // the scheduler has announced it unmatched: no event of its own comes later
    await refused(alice, 'answer_task', { id: task.id, answer: 'x' }, 'invalid_transition');
    await refused(bob, 'cancel_task', { id: task.id }, 'forbidden');
    await refused(bob, 'complete_task', { id: task.id }, 'invalid_transition');
    await refused(bob, 'request_input', { id: task.id, question: 'hm?' }, 'invalid_transition');
    await ok(alice, 'cancel_task', { id: task.id });
  });

  it('identity as /api/v1: no X-Agent-ID → HTTP 401; in token mode an agent token is the identity', async () => {
    const res = await request(`${t.apiUrl}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.statusCode).toBe(401);
    expect(await res.body.json()).toMatchObject({ code: 'missing_agent_id' });
    await expect(mcpClient(t.apiUrl, {})).rejects.toThrow();

    await using tok = await startApp({ config: { auth: { mode: 'token' } } });
    const issued = await tok.call('POST', '/api/v1/agents/carol/tokens', { admin: true });
    expect(issued.status).toBe(201);
    const carol = await mcpClient(tok.apiUrl, { Authorization: `Bearer ${issued.body.token}` });
    const created = await ok(carol, 'create_task', { title: 'by token' });
    expect(created.requester).toBe('carol');
    await expect(mcpClient(tok.apiUrl, { Authorization: `Bearer not-a-token` })).rejects.toThrow();
  });
});
