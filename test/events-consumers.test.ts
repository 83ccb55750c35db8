// Consuming Warren's agent events from a real nats-server: availability signal at once, a
// stopped/degraded agent's work back to pending (`reassigned`, no retry spent), bad messages
// counted and survived.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { request } from 'undici';
import { startApp } from './helpers/app.js';
import { natsConnect, waitFor } from './helpers/events.js';
import { insertTask } from './helpers/factories.js';
import { getTaskRow } from '../src/store/tasks.js';
import { parseAgentEvent } from '../src/events/consumers.js';

const warren = (agent: string, type: string, reason?: string) =>
  JSON.stringify({
    id: randomUUID(),
    type: `agent.${type}`,
    source: 'warren',
    timestamp: new Date().toISOString(),
    data: { agent, ...(reason ? { reason } : {}) },
  });

async function counter(opsUrl: string, labels: string): Promise<number> {
  const text = await (await request(`${opsUrl}/metrics`)).body.text();
  const line = text.split('\n').find((l) => l.startsWith(`dispatch_consumed_messages_total{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('agent event consumer', () => {
  it("puts a stopped agent's two running tasks back to pending on the event itself, leaving others alone", async () => {
    const natsUrl = inject('natsUrl');
    const agent = `w-${randomUUID().slice(0, 8)}`;
    // The clock stands still, so no deadline ever passes: only the event can move these tasks.
    const now = new Date(Date.UTC(2026, 0, 1, 12));
    await using t = await startApp({ clock: { now: () => now }, config: { hermes: { url: natsUrl } } });
    const states: Array<{ agent: string; state: string; reason?: string }> = [];
    t.dispatch.context.signals.on('agent-state', (s) => states.push(s));
    const deadline = new Date(now.getTime() + 60_000);
    const a = await insertTask(t.sql, { status: 'running', assignee: agent, retry_count: 1, deadline_at: deadline, created_at: now });
    const b = await insertTask(t.sql, { status: 'assigned', assignee: agent, wake_deadline_at: deadline, deadline_at: deadline, created_at: now });
    const other = await insertTask(t.sql, { status: 'running', assignee: 'someone-else', created_at: now });
    await waitFor('nats connected', async () => ((await (await request(`${t.opsUrl}/health`)).body.json()) as any).checks.nats === 'ok');
    /** Agent events handled to the end (counted after the re-queue committed). */
    const handled = () => counter(t.opsUrl, 'kind="agent_state",outcome="ok"');

    const nc = await natsConnect(natsUrl);
    try {
      // Subscriptions are made on connect; a first `ready` proves ours is live.
      nc.publish(`swarm.agent.${agent}.ready`, warren(agent, 'ready'));
      await waitFor('ready handled', async () => (await handled()) >= 1);
      expect((await getTaskRow(t.sql, a.id))!.status).toBe('running');

      nc.publish(`swarm.agent.${agent}.stopped`, warren(agent, 'stopped', 'oom'));
      await waitFor('stopped handled', async () => (await handled()) >= 2);
      const rows = await Promise.all([getTaskRow(t.sql, a.id), getTaskRow(t.sql, b.id)]);
      expect(rows.map((r) => r?.status)).toEqual(['pending', 'pending']);
      expect(states).toContainEqual({ agent, state: 'stopped', reason: 'oom' });

      for (const id of [a.id, b.id]) {
        const r = (await getTaskRow(t.sql, id))!;
        expect(r).toMatchObject({ status: 'pending', assignee: null, avoid_agent: agent, deadline_at: null, wake_deadline_at: null });
        const events = await t.sql<
          { type: string; envelope: any }[]
        >`select type, dispatch_task_envelope(task_events) as envelope from task_events where task_id = ${id} order by seq`;
        expect(events.map((e) => e.type)).toEqual(['created', 'reassigned']);
        expect(events[1]!.envelope.data).toMatchObject({ from_agent: agent, reason: 'agent_stopped', task: { status: 'pending', assignee: null } });
      }
      expect((await getTaskRow(t.sql, a.id))!.retry_count).toBe(1); // no retry spent
      expect((await getTaskRow(t.sql, other.id))!.status).toBe('running');

      // The same event again (another replica, a redelivery) changes nothing.
      nc.publish(`swarm.agent.${agent}.stopped`, warren(agent, 'stopped'));
      await waitFor('second stopped handled', async () => (await handled()) >= 3);
      const reassigned = await t.sql`select 1 from task_events where type = 'reassigned'`;
      expect(reassigned.length).toBe(2);
    } finally {
      await nc.close();
    }
  });

  it('re-queues on degraded, only signals on started, and counts bad messages without dying', async () => {
    const natsUrl = inject('natsUrl');
    const agent = `d-${randomUUID().slice(0, 8)}`;
    await using t = await startApp({ config: { hermes: { url: natsUrl } } });
    const states: Array<{ agent: string; state: string }> = [];
    t.dispatch.context.signals.on('agent-state', (s) => states.push(s));
    const task = await insertTask(t.sql, { status: 'running', assignee: agent });
    await waitFor('nats connected', async () => ((await (await request(`${t.opsUrl}/health`)).body.json()) as any).checks.nats === 'ok');
    const nc = await natsConnect(natsUrl);
    try {
      nc.publish(`swarm.agent.${agent}.started`, warren(agent, 'started'));
      await waitFor('started → ready', () => states.some((s) => s.agent === agent && s.state === 'ready'));
      expect((await getTaskRow(t.sql, task.id))!.status).toBe('running');

      const before = await counter(t.opsUrl, 'kind="agent_state",outcome="invalid"');
      nc.publish(`swarm.agent.${agent}.stopped`, 'not json');
      nc.publish(`swarm.agent.${agent}.stopped`, JSON.stringify({ data: { agent: 'has space' } }));
      nc.publish(`swarm.agent.${agent}.stopped`, JSON.stringify([1, 2]));
      await waitFor('three invalid counted', async () => (await counter(t.opsUrl, 'kind="agent_state",outcome="invalid"')) - before >= 3);
      expect((await getTaskRow(t.sql, task.id))!.status).toBe('running');

      nc.publish(`swarm.agent.${agent}.degraded`, warren(agent, 'degraded', 'slow'));
      await waitFor('task pending after degraded', async () => (await getTaskRow(t.sql, task.id))!.status === 'pending');
      const [ev] = await t.sql<
        { envelope: any }[]
      >`select dispatch_task_envelope(task_events) as envelope from task_events where task_id = ${task.id} and type = 'reassigned'`;
      expect(ev!.envelope.data).toMatchObject({ from_agent: agent, reason: 'agent_degraded' });
    } finally {
      await nc.close();
    }
  });

  it('parses Warren envelopes strictly', () => {
    expect(parseAgentEvent('swarm.agent.scout.stopped', warren('scout', 'stopped', 'bye'))).toEqual({
      agent: 'scout',
      event: 'stopped',
      state: 'stopped',
      reason: 'bye',
    });
    expect(parseAgentEvent('swarm.agent.scout.ready', JSON.stringify({ data: {} }))).toMatchObject({ agent: 'scout', state: 'ready' });
    expect(() => parseAgentEvent('swarm.agent.scout.exploded', warren('scout', 'x'))).toThrow(/not an agent lifecycle subject/);
    expect(() => parseAgentEvent('swarm.agent.scout.stopped', JSON.stringify({ data: { agent: 'scout', reason: 7 } }))).toThrow(/reason/);
    expect(() => parseAgentEvent('swarm.agent.scout.stopped', JSON.stringify({ nodata: true }))).toThrow(/data/);
  });
});
