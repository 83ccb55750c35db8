// The start deadline (§11.2): a task not assigned by `start_by` ends timed_out within one tick,
// its waiting dependents cancelled in the same transaction; a task assigned in time is left alone.
import { describe, expect, it } from 'vitest';
import { startApp } from './helpers/app.js';
import { schedulerOf } from './fakes/swarm.js';
import { fakeClock } from './helpers/clock.js';

describe('start deadline', () => {
  it('a task not assigned by start_by ends timed_out with a not_started timeout event; its dependent is cancelled in the same tick', async () => {
    const clock = fakeClock();
    await using t = await startApp({ clock, config: { assignment: { tick_interval_ms: 600_000 } } });
    const s = schedulerOf(t);
    await s.stopLoop();
    const startBy = new Date(clock.now().getTime() + 1000).toISOString();
    const created = await t.call('POST', '/api/v1/tasks', { body: { title: 'soon or never', scope: 'nobody', start_by: startBy } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ start_by: startBy, status: 'pending', schedule_id: null, scheduled_for: null });
    const dependent = await t.call('POST', '/api/v1/tasks', { body: { title: 'after', depends_on: [created.body.id] } });
    expect(dependent.body.status).toBe('waiting');

    clock.advance(999);
    expect((await s.runOnce()).notStarted).toBe(0);
    expect((await t.call('GET', `/api/v1/tasks/${created.body.id}`)).body.status).toBe('pending');

    clock.advance(1);
    expect((await s.runOnce()).notStarted).toBe(1);
    const ended = (await t.call('GET', `/api/v1/tasks/${created.body.id}`)).body;
    expect(ended).toMatchObject({ status: 'timed_out', error: `not started by ${startBy}`, assignee: null });
    const events = (await t.call('GET', `/api/v1/tasks/${created.body.id}/events`)).body.events;
    expect(events.map((e: { type: string }) => e.type)).toEqual(['task.created', 'task.timeout']);
    expect(events[1].data).toMatchObject({ reason: 'not_started', will_retry: false });
    const after = (await t.call('GET', `/api/v1/tasks/${dependent.body.id}`)).body;
    expect(after).toMatchObject({ status: 'cancelled', error: `dependency ${created.body.id} timed_out` });
    // A second tick finds nothing more to do.
    expect((await s.runOnce()).notStarted).toBe(0);
  });

  it('a waiting task past start_by times out too; an assigned one does not; a manual retry clears start_by', async () => {
    const clock = fakeClock();
    await using t = await startApp({
      clock,
      config: { assignment: { tick_interval_ms: 600_000 }, agents: [{ id: 'scout', name: 'Scout', capabilities: ['research'], state: 'ready' }] },
    });
    const s = schedulerOf(t);
    await s.stopLoop();
    const startBy = new Date(clock.now().getTime() + 500).toISOString();
    const blocker = await t.call('POST', '/api/v1/tasks', { body: { title: 'blocker', scope: 'nobody' } });
    const waiting = await t.call('POST', '/api/v1/tasks', { body: { title: 'waits', depends_on: [blocker.body.id], start_by: startBy } });
    const quick = await t.call('POST', '/api/v1/tasks', { body: { title: 'quick', scope: 'research', start_by: startBy } });
    expect((await s.runOnce()).assigned.map((a) => a.taskId)).toEqual([quick.body.id]);
    clock.advance(500);
    expect((await s.runOnce()).notStarted).toBe(1);
    expect((await t.call('GET', `/api/v1/tasks/${waiting.body.id}`)).body).toMatchObject({ status: 'timed_out', error: `not started by ${startBy}` });
    expect((await t.call('GET', `/api/v1/tasks/${quick.body.id}`)).body.status).toBe('assigned');
    const retried = await t.call('POST', `/api/v1/tasks/${waiting.body.id}/retry`, { body: {} });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'waiting', start_by: null });
    clock.advance(10_000);
    expect((await s.runOnce()).notStarted).toBe(0);
  });

  it('start_by must be an ISO instant', async () => {
    await using t = await startApp();
    const res = await t.call('POST', '/api/v1/tasks', { body: { title: 'x', start_by: 'tomorrow' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
  });
});
