// NATS consumers: Warren's agent lifecycle events and task requests from the swarm.
//
// - `swarm.agent.<name>.stopped|degraded|ready|started` (Warren envelope, data {agent, reason?}),
//   plain subscription on every replica (each keeps its own availability cache): emits the
//   'agent-state' signal at once and, on stopped/degraded, re-queues that agent's assigned/running
//   tasks (store/requeue.ts, a CAS statement — replicas racing on the same event move each task once).
// - `swarm.task.request` (data = the POST body plus `requester`), queue group `dispatch` so one
//   replica creates the task: validated exactly as POST /api/v1/tasks.
// - `swarm.trigger.<type>` (the body of POST /api/v1/trigger-events), queue group `dispatch`:
//   starts the listening workflows' runs (events/trigger-events.ts), once per message id.
// Core NATS subscriptions: messages sent while NATS is unreachable are not replayed (Warren's
// periodic /admin/agents refresh covers availability meanwhile). Bad messages are logged and
// counted (dispatch_consumed_messages_total{outcome="invalid"}), never crash the subscriber.
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Component, DispatchContext } from '../context.js';
import { requeueAgentWork } from '../services/agents.js';
import type { NatsLink } from './nats.js';
import { handleTaskRequest, replyTo } from './task-requests.js';
import { handleTriggerMessage, TRIGGER_SUBJECT } from './trigger-events.js';
import { isAgentId, isObject } from '../core/ids.js';

export const AGENT_SUBJECT = 'swarm.agent.*.*';
export const TASK_REQUEST_SUBJECT = 'swarm.task.request';
export const QUEUE_GROUP = 'dispatch';

/** Warren event → the availability state Dispatch records (docs/scheduler.md, the agent directory). */
const AGENT_EVENTS: Record<string, string> = {
  started: 'ready',
  ready: 'ready',
  degraded: 'degraded',
  stopped: 'stopped',
};
const REQUEUE_ON = new Set(['stopped', 'degraded']);

export class InvalidMessage extends Error {}

export interface AgentEvent {
  agent: string;
  event: string;
  state: string;
  reason?: string;
}

/** Parse a Warren agent event; throws InvalidMessage on anything malformed. */
export function parseAgentEvent(subject: string, payload: string): AgentEvent {
  const parts = subject.split('.');
  const event = parts[3] ?? '';
  const state = AGENT_EVENTS[event];
  if (parts.length !== 4 || !state) throw new InvalidMessage(`not an agent lifecycle subject: ${subject}`);
  let env: unknown;
  try {
    env = JSON.parse(payload);
  } catch {
    throw new InvalidMessage('payload is not JSON');
  }
  if (!isObject(env)) throw new InvalidMessage('envelope is not an object');
  const data = env.data;
  if (!isObject(data)) throw new InvalidMessage('envelope has no data object');
  const d = data as { agent?: unknown; reason?: unknown };
  const agent = d.agent === undefined ? parts[2] : d.agent;
  if (!isAgentId(agent)) throw new InvalidMessage('data.agent is not a valid agent id');
  if (d.reason !== undefined && d.reason !== null && typeof d.reason !== 'string') throw new InvalidMessage('data.reason is not a string');
  return { agent, event, state, ...(typeof d.reason === 'string' ? { reason: d.reason } : {}) };
}

export interface Consumers extends Component {
  /** Handle one agent event (what the subscription does per message); tests call it directly. */
  handleAgentEvent(subject: string, payload: string): Promise<void>;
}

export function createConsumers(ctx: DispatchContext, nats: NatsLink): Consumers {
  const log = ctx.logger.child({ component: 'consumers' });
  const subs: Subscription[] = [];
  const inflight = new Set<Promise<void>>();
  let started = false;

  async function handleAgentEvent(subject: string, payload: string): Promise<void> {
    let ev: AgentEvent;
    try {
      ev = parseAgentEvent(subject, payload);
    } catch (err) {
      ctx.metrics.consumedMessages.inc({ kind: 'agent_state', outcome: 'invalid' });
      log.warn({ subject, err: (err as Error).message }, 'ignoring malformed agent event');
      return;
    }
    ctx.signals.emit('agent-state', { agent: ev.agent, state: ev.state, ...(ev.reason ? { reason: ev.reason } : {}) });
    if (REQUEUE_ON.has(ev.event)) {
      const reason = `agent_${ev.event}`;
      const rows = await requeueAgentWork(ctx, ev.agent, reason);
      if (rows.length > 0) {
        log.info({ agent: ev.agent, event: ev.event, reason: ev.reason, tasks: rows.length }, 'agent left: its tasks went back to pending');
        ctx.signals.emit('events-written');
        ctx.signals.emit('assign-needed');
      }
    }
    ctx.metrics.consumedMessages.inc({ kind: 'agent_state', outcome: 'ok' });
  }

  async function onTaskRequest(msg: Msg): Promise<void> {
    const out = await handleTaskRequest(ctx, msg.string());
    if (out.ok) {
      ctx.metrics.consumedMessages.inc({ kind: 'task_request', outcome: 'ok' });
      if (out.created) log.info({ task: out.task.id, requester: out.task.requester }, 'task created from swarm.task.request');
    } else {
      const invalid = out.error.statusCode < 500;
      ctx.metrics.consumedMessages.inc({ kind: 'task_request', outcome: invalid ? 'invalid' : 'error' });
      log.warn({ code: out.error.code, err: out.error.message, details: out.error.details }, 'refused swarm.task.request');
    }
    replyTo(msg, out);
  }

  async function onTrigger(msg: Msg): Promise<void> {
    const out = await handleTriggerMessage(ctx, msg.subject, msg.string(), msg.headers?.get('Nats-Msg-Id') || undefined);
    if (out.ok) {
      ctx.metrics.consumedMessages.inc({ kind: 'trigger_event', outcome: 'ok' });
      if (out.created) log.info({ event: out.event.id, type: out.event.type, runs: out.event.runs.length }, `runs started from ${msg.subject}`);
      if (msg.reply) msg.respond(JSON.stringify({ event_id: out.event.id, runs: out.event.runs }));
    } else {
      const invalid = out.error.statusCode < 500;
      ctx.metrics.consumedMessages.inc({ kind: 'trigger_event', outcome: invalid ? 'invalid' : 'error' });
      log.warn({ subject: msg.subject, code: out.error.code, err: out.error.message, details: out.error.details }, 'refused trigger event');
      if (msg.reply)
        msg.respond(JSON.stringify({ error: out.error.message, code: out.error.code, ...(out.error.details ? { details: out.error.details } : {}) }));
    }
  }

  function track(p: Promise<void>): void {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }

  function subscribe(nc: NatsConnection): void {
    // Subscriptions survive reconnects inside the client; subscribe once per connection object.
    if (subs.length > 0 && !subs[0]!.isClosed()) return;
    subs.length = 0;
    subs.push(
      nc.subscribe(AGENT_SUBJECT, {
        callback: (err, msg: Msg) => {
          if (err) {
            log.warn({ err: err.message }, 'agent event subscription error');
            return;
          }
          track(
            handleAgentEvent(msg.subject, msg.string()).catch((e: unknown) => {
              ctx.metrics.consumedMessages.inc({ kind: 'agent_state', outcome: 'error' });
              log.error({ err: e, subject: msg.subject }, 'handling agent event failed');
            }),
          );
        },
      }),
    );
    // One replica creates each requested task: a queue group.
    subs.push(
      nc.subscribe(TASK_REQUEST_SUBJECT, {
        queue: QUEUE_GROUP,
        callback: (err, msg: Msg) => {
          if (err) {
            log.warn({ err: err.message }, 'task request subscription error');
            return;
          }
          track(
            onTaskRequest(msg).catch((e: unknown) => {
              ctx.metrics.consumedMessages.inc({ kind: 'task_request', outcome: 'error' });
              log.error({ err: e }, 'handling swarm.task.request failed');
              try {
                if (msg.reply) msg.respond(JSON.stringify({ error: 'internal error', code: 'internal' }));
              } catch {
                /* connection gone */
              }
            }),
          );
        },
      }),
    );
    subs.push(subscribeTriggers(nc));
  }

  function subscribeTriggers(nc: NatsConnection): Subscription {
    // One replica handles each message (a queue group); a redelivery is deduplicated by its id.
    return nc.subscribe(TRIGGER_SUBJECT, {
      queue: QUEUE_GROUP,
      callback: (err, msg: Msg) => {
        if (err) {
          log.warn({ err: err.message }, 'trigger event subscription error');
          return;
        }
        track(
          onTrigger(msg).catch((e: unknown) => {
            ctx.metrics.consumedMessages.inc({ kind: 'trigger_event', outcome: 'error' });
            log.error({ err: e, subject: msg.subject }, 'handling a trigger event failed');
          }),
        );
      },
    });
  }

  return {
    name: 'event-consumers',
    handleAgentEvent,
    async start() {
      if (!nats.enabled) return;
      started = true;
      nats.onConnected((nc) => {
        if (started) subscribe(nc);
      });
    },
    async stop() {
      started = false;
      for (const s of subs) s.unsubscribe();
      subs.length = 0;
      await Promise.allSettled([...inflight]);
    },
  };
}
