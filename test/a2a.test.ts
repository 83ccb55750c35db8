// The A2A door (CONTRACT §21.3, docs/agent-doors.md) driven by @a2a-js/sdk's own clients — the
// default (protocol 1.0) client from ClientFactory, and a 0.3-mode client (its LegacyJsonRpcTransport)
// — end to end against a real Dispatch whose worker does the work over REST: a task created over
// A2A, a blocking send, streaming, an input-required round trip, cancel, resubscribe, refusals.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { Role, TaskState, type Message, type SendMessageRequest, type StreamResponse } from '@a2a-js/sdk';
import { Client, ClientFactory, ClientFactoryOptions, JsonRpcTransportFactory } from '@a2a-js/sdk/client';
import { LegacyJsonRpcTransport } from '@a2a-js/sdk/compat/v0_3/client';
import { startApp, type TestApp } from './helpers/app.js';
import { counts } from './helpers/tasks-api.js';
import { quiesce, waitFor } from './helpers/wait.js';

let t: TestApp;

beforeAll(async () => {
  t = await startApp({ config: { agents: [{ id: 'w1', name: 'W1', capabilities: ['summarise', 'Research'], state: 'ready' }] } });
});
afterAll(async () => t?.stop());

/** fetch with the caller's X-Agent-ID (how an A2A client passes its identity). */
const asAgent =
  (agent: string): typeof fetch =>
  (input, init) =>
    fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), 'X-Agent-ID': agent } });

async function defaultClient(agent: string): Promise<Client> {
  const factory = new ClientFactory(
    ClientFactoryOptions.createFrom(ClientFactoryOptions.default, { transports: [new JsonRpcTransportFactory({ fetchImpl: asAgent(agent) })] }),
  );
  return factory.createFromUrl(t.apiUrl);
}

async function legacyClient(agent: string): Promise<Client> {
  const card = (await (await fetch(`${t.apiUrl}/.well-known/agent-card.json`)).json()) as { url: string };
  return new Client(new LegacyJsonRpcTransport({ endpoint: card.url, fetchImpl: asAgent(agent) }), card as never);
}

const text = (value: string) => ({ content: { $case: 'text' as const, value }, metadata: undefined, filename: '', mediaType: 'text/plain' });
const data = (value: unknown) => ({ content: { $case: 'data' as const, value }, metadata: undefined, filename: '', mediaType: 'application/json' });

function message(parts: Message['parts'], o: { skill?: string; taskId?: string; contextId?: string } = {}): Message {
  return {
    messageId: randomUUID(),
    contextId: o.contextId ?? '',
    taskId: o.taskId ?? '',
    role: Role.ROLE_USER,
    parts,
    metadata: o.skill ? { skill: o.skill } : undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

const send = (m: Message, returnImmediately: boolean): SendMessageRequest => ({
  tenant: '',
  message: m,
  configuration: { acceptedOutputModes: [], taskPushNotificationConfig: undefined, returnImmediately },
  metadata: undefined,
});

/** The worker, over REST: its next assignment (held by the long-poll until there is one). */
async function nextAssignment(agent = 'w1'): Promise<any> {
  for (;;) {
    const res = await t.call('GET', `/api/v1/agents/${agent}/assignments?wait=20`, { agent });
    expect(res.status).toBe(200);
    if (res.body.tasks.length > 0) return res.body.tasks[0];
  }
}

const rest = (method: string, path: string, body?: unknown, agent = 'w1') => t.call(method, path, { agent, ...(body !== undefined ? { body } : {}) });

describe('A2A', () => {
  it('serves a public agent card: Dispatch, <base>/a2a, streaming, one skill per capability tag, both protocol versions', async () => {
    const res = await request(`${t.apiUrl}/.well-known/agent-card.json`);
    expect(res.statusCode).toBe(200);
    const card = (await res.body.json()) as any;
    expect(card).toMatchObject({
      name: 'Dispatch',
      url: `${t.apiUrl}/a2a`,
      version: expect.any(String),
      protocolVersion: expect.any(String),
      capabilities: { streaming: true, pushNotifications: false },
      defaultInputModes: ['text/plain', 'application/json'],
      defaultOutputModes: ['text/plain', 'application/json'],
      securitySchemes: { agentId: { type: 'apiKey', in: 'header', name: 'X-Agent-ID' }, bearer: { type: 'http', scheme: 'bearer' } },
    });
    expect(card.skills.map((s: { id: string; tags: string[] }) => [s.id, s.tags])).toEqual([
      ['research', ['research']],
      ['summarise', ['summarise']],
    ]);
    expect(card.supportedInterfaces.map((i: { protocolVersion: string }) => i.protocolVersion)).toEqual(['1.0', '0.3']);
  });

  it('default client: a task created over A2A, done by a worker over REST; getTask shows the result as an artifact', async () => {
    const client = await defaultClient('alice');
    const sent = (await client.sendMessage(send(message([text('Summarise the Q3 report'), data({ doc: 'q3.pdf' })], { skill: 'summarise' }), true))) as any;
    expect(sent.status.state).toBe(TaskState.TASK_STATE_SUBMITTED);
    const task = await rest('GET', `/api/v1/tasks/${sent.id}`);
    expect(task.body).toMatchObject({
      title: 'Summarise the Q3 report',
      description: 'Summarise the Q3 report',
      scope: 'summarise',
      requester: 'alice',
      context: { doc: 'q3.pdf', a2a: { contextId: sent.contextId } },
    });
    const work = await nextAssignment();
    expect(work.id).toBe(sent.id);
    await rest('POST', `/api/v1/tasks/${sent.id}/progress`, { message: 'reading' });
    expect(((await client.getTask({ tenant: '', id: sent.id })) as any).status.state).toBe(TaskState.TASK_STATE_WORKING);
    await rest('POST', `/api/v1/tasks/${sent.id}/complete`, { result: { summary: 'Revenue up 4%' } });
    const done = (await client.getTask({ tenant: '', id: sent.id })) as any;
    expect(done.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(done.artifacts[0].parts[0].content).toEqual({ $case: 'data', value: { summary: 'Revenue up 4%' } });
  });

  it('default client: a blocking send returns once the worker completed', async () => {
    const client = await defaultClient('alice');
    const worker = (async () => {
      const work = await nextAssignment();
      await rest('POST', `/api/v1/tasks/${work.id}/complete`, { result: 'done' });
      return work.id as string;
    })();
    const sent = (await client.sendMessage(send(message([text('Research the market')], { skill: 'research' }), false))) as any;
    expect(sent.id).toBe(await worker);
    expect(sent.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(sent.artifacts[0].parts[0].content).toEqual({ $case: 'data', value: 'done' });
  });

  it('default client: streaming follows the task from its events, the result artifact before completed', async () => {
    const client = await defaultClient('alice');
    const worker = (async () => {
      const work = await nextAssignment();
      await rest('POST', `/api/v1/tasks/${work.id}/progress`, { percent: 50 });
      await rest('POST', `/api/v1/tasks/${work.id}/complete`, { result: { n: 1 } });
    })();
    const seen: string[] = [];
    for await (const ev of client.sendMessageStream(send(message([text('Stream me')], { skill: 'summarise' }), false)) as AsyncGenerator<StreamResponse>) {
      const p = ev.payload!;
      if (p.$case === 'task') seen.push(`task:${p.value.status!.state}`);
      else if (p.$case === 'statusUpdate') seen.push(`status:${p.value.status!.state}`);
      else if (p.$case === 'artifactUpdate') seen.push(`artifact:${JSON.stringify(p.value.artifact!.parts[0]!.content)}`);
    }
    await worker;
    expect(seen[0]).toBe(`task:${TaskState.TASK_STATE_SUBMITTED}`);
    expect(seen.slice(-3)).toEqual([
      `status:${TaskState.TASK_STATE_WORKING}`,
      `artifact:${JSON.stringify({ $case: 'data', value: { n: 1 } })}`,
      `status:${TaskState.TASK_STATE_COMPLETED}`,
    ]);
  });

  it('0.3-mode client: an input-required round trip — the question as the status message, answered with message/send naming the taskId', async () => {
    const client = await legacyClient('bob');
    const worker = (async () => {
      const work = await nextAssignment();
      await rest('POST', `/api/v1/tasks/${work.id}/progress`, {});
      await rest('POST', `/api/v1/tasks/${work.id}/input-required`, { question: 'Which quarter?' });
      const answered = await nextAssignment();
      expect(answered).toMatchObject({ id: work.id, status: 'running', input: { answer: 'Q2' } });
      await rest('POST', `/api/v1/tasks/${work.id}/complete`, { result: { quarter: 'Q2' } });
    })();
    const asked = (await client.sendMessage(send(message([text('Quarterly summary')], { skill: 'summarise' }), false))) as any;
    expect(asked.status.state).toBe(TaskState.TASK_STATE_INPUT_REQUIRED);
    expect(asked.status.message.parts[0].content).toEqual({ $case: 'text', value: 'Which quarter?' });
    const done = (await client.sendMessage(send(message([text('Q2')], { taskId: asked.id, contextId: asked.contextId }), false))) as any;
    await worker;
    expect(done).toMatchObject({ id: asked.id });
    expect(done.status.state).toBe(TaskState.TASK_STATE_COMPLETED);
    const events = (await rest('GET', `/api/v1/tasks/${asked.id}/events`)).body.events.map((e: { type: string }) => e.type);
    expect(events).toContain('task.input_received');
  });

  it('0.3-mode client: tasks/cancel cancels (requester only); a second cancel is refused', async () => {
    const client = await legacyClient('carol');
    const sent = (await client.sendMessage(send(message([text('Nobody can do this')], { skill: 'juggling' }), true))) as any;
    expect(sent.status.state).toBe(TaskState.TASK_STATE_SUBMITTED);
    const other = await legacyClient('mallory');
    await expect(other.cancelTask({ tenant: '', id: sent.id, metadata: undefined })).rejects.toThrow(/requester/);
    const cancelled = (await client.cancelTask({ tenant: '', id: sent.id, metadata: undefined })) as any;
    expect(cancelled.status.state).toBe(TaskState.TASK_STATE_CANCELED);
    await expect(client.cancelTask({ tenant: '', id: sent.id, metadata: undefined })).rejects.toThrow(/cancel/);
  });

  it('tasks/resubscribe (0.3 wire): status updates from the task events, the last one final', async () => {
    const client = await defaultClient('dave');
    const sent = (await client.sendMessage(send(message([text('Follow me')], { skill: 'summarise' }), true))) as any;
    const res = await fetch(`${t.apiUrl}/a2a`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-agent-id': 'dave' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tasks/resubscribe', params: { id: sent.id } }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = res.text();
    const work = await nextAssignment();
    expect(work.id).toBe(sent.id);
    await rest('POST', `/api/v1/tasks/${sent.id}/progress`, {});
    await rest('POST', `/api/v1/tasks/${sent.id}/complete`, { result: 'ok' });
    const frames = (await reading)
      .split('\n\n')
      .filter((b) => b.startsWith('data: '))
      .map((b) => JSON.parse(b.slice(6)).result);
    const updates = frames.filter((f) => f.kind === 'status-update');
    expect(updates.map((u) => [u.status.state, u.final])).toEqual([
      ['working', false],
      ['completed', true],
    ]);
    expect(frames.some((f) => f.kind === 'artifact-update')).toBe(true);
  });

  it('a streaming client that goes away stops following its task (the feed subscription is released)', async () => {
    const client = await defaultClient('frank');
    const sent = (await client.sendMessage(send(message([text('Nobody does this')], { skill: 'juggling' }), true))) as any;
    const held = t.dispatch.context.waiting.streams.size;
    const abort = new AbortController();
    const res = await fetch(`${t.apiUrl}/a2a`, {
      method: 'POST',
      signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-agent-id': 'frank' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tasks/resubscribe', params: { id: sent.id } }),
    });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain(sent.id);
    await waitFor(() => t.dispatch.context.waiting.streams.size === held + 1, 'the stream is held');
    abort.abort();
    await waitFor(() => t.dispatch.context.waiting.streams.size === held, 'the stream is released');
    expect((await client.cancelTask({ tenant: '', id: sent.id, metadata: undefined })).status!.state).toBe(TaskState.TASK_STATE_CANCELED);
  });

  it('refusals: a message with no skill, an answer to a task not waiting, an unknown task, no identity — clear errors, nothing stored', async () => {
    const client = await defaultClient('erin');
    await quiesce(t); // the earlier tests' tasks have had their last scheduler event
    const before = await counts(t.sql);
    await expect(client.sendMessage(send(message([text('no skill')]), true))).rejects.toThrow(/skill/);
    expect(await counts(t.sql)).toEqual(before);

    // On the wire (0.3): JSON-RPC invalid params, the contract's code in the error data.
    const raw = await fetch(`${t.apiUrl}/a2a`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-agent-id': 'erin' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'message/send',
        params: { message: { kind: 'message', messageId: randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'no skill' }] } },
      }),
    });
    const body = (await raw.json()) as any;
    expect(body.error.code).toBe(-32602);
    expect(body.error.message).toMatch(/metadata\.skill/);
    expect(await counts(t.sql)).toEqual(before);

    const sent = (await client.sendMessage(send(message([text('not waiting')], { skill: 'juggling' }), true))) as any;
    await quiesce(t); // the scheduler has announced it unmatched: no event of its own comes later
    const [row] = await t.sql`select * from tasks where id = ${sent.id}`;
    const mid = await counts(t.sql);
    await expect(client.sendMessage(send(message([text('an answer')], { taskId: sent.id }), true))).rejects.toThrow(/input/);
    expect(await counts(t.sql)).toEqual(mid);
    expect((await t.sql`select * from tasks where id = ${sent.id}`)[0]).toEqual(row);

    await expect(client.getTask({ tenant: '', id: randomUUID() })).rejects.toThrow(/not found/);
    await expect(client.sendMessage(send(message([data([1, 2])], { skill: 'summarise' }), true))).rejects.toThrow();
    expect(await counts(t.sql)).toEqual(mid);

    const anon = await request(`${t.apiUrl}/a2a`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tasks/get', params: { id: sent.id } }),
    });
    expect(anon.statusCode).toBe(401);
    expect(((await anon.body.json()) as { code: string }).code).toBe('missing_agent_id');
  });
});
