// Worker reports over NATS (docs/callbacks.md, the swarm's dialects): the swarm's agents publish
// swarm.task.<id>.started|progress|completed|failed themselves. Durable JetStream consumers
// (shared by every replica, so each message is applied by one) read them from the stream that
// stores swarm.task.*.* and apply each exactly like the HTTP report — the same services, the
// same compare-and-set rules — unless it is one of Dispatch's own envelopes (source "dispatch":
// Dispatch publishes its lifecycle events on the same subjects, into the same stream).
//
// One consumer per report type (swarm.task.*.started, …; nats-server 2.9 has one filter subject
// per consumer): Dispatch's own created, assigned, retry, … events are never delivered to it.
// Until 2026-12-07 one consumer on swarm.task.*.* read every event Dispatch published, three per
// plain lifecycle, to ack them unread (the consumer switched off: ~18 % less service CPU at 200/s,
// a third less of nats-server's; one consumer per type: ~10 % and ~17 %, docs/benchmarks.md run
// 22). Dispatch's own events on a report's subject (its completed, …) still come, and are acked
// unread by their `Dispatch-Source` header (events/publisher.ts; an envelope without it is still
// recognised by its source after parsing).
// The four consumers' messages are handled one at a time, in the order they arrive (a report
// waits for the one before it, whatever its type); a task's started and completed published in
// that order come from two consumers, so a completed may be applied first and the started then
// refused (409, as an HTTP started after a completion is): the task ends the same.
// A report's ack goes out at the end of its turn, with the turn's other NATS commands
// (events/turn.ts); the acks of Dispatch's own events go out together every OWN_ACK_MS (or
// OWN_ACK_MAX of them), one socket write instead of one per event. An own event whose ack is lost
// (a crash) is delivered again after the ack wait and skipped again.
// A refused report (not the assignee, wrong state, unknown task, bad body) is logged, counted
// (dispatch_nats_reports_total{outcome}) and acked: never retried. A failure of Dispatch itself
// (the database down) is redelivered, at most MAX_DELIVER times.
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Component, DispatchContext } from '../context.js';
import { isObject } from '../core/ids.js';
import { DispatchError } from '../errors.js';
import { LIMITS } from '../schemas/task.js';
import { completeTask, failTask, getTask, reportProgress } from '../services/tasks.js';
import type { NatsLink } from './nats.js';
import { SOURCE_HEADER } from './publisher.js';
import { turnOf } from './turn.js';
import { ensureTaskStream, findCapturing, TASK_SUBJECTS } from './stream.js';

const REPORT_TYPE_LIST = ['started', 'progress', 'completed', 'failed'] as const;
const REPORT_TYPES: ReadonlySet<string> = new Set(REPORT_TYPE_LIST);
/** Each report type's durable consumer, filtering swarm.task.*.<type>. */
export const REPORT_DURABLES: Readonly<Record<(typeof REPORT_TYPE_LIST)[number], string>> = {
  started: 'dispatch-worker-reports-started',
  progress: 'dispatch-worker-reports-progress',
  completed: 'dispatch-worker-reports-completed',
  failed: 'dispatch-worker-reports-failed',
};
/** The one consumer on swarm.task.*.* of the releases before 2026-12-07: replaced on start (startOf, consume). */
export const LEGACY_REPORTS_DURABLE = 'dispatch-worker-reports';
const MAX_DELIVER = 5;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RETRY_MS = 5000;
/** A JetStream ack's body (what JsMsg.ack() sends to the message's reply subject). */
const ACK = Uint8Array.of(43, 65, 67, 75); // "+ACK"
/** Dispatch's own events are acked together at most this late (ms; the ack wait is 30 s)… */
export const OWN_ACK_MS = 50;
/** …or as soon as this many wait (well under the server's default of 1,000 unacknowledged). */
const OWN_ACK_MAX = 256;

export type ReportOutcome = 'ok' | 'ignored' | 'refused' | 'invalid' | 'error';

export interface ReportResult {
  outcome: ReportOutcome;
  reason?: string;
}

/**
 * The ack subject of a JetStream message: its underlying message's reply (JsMsgImpl.msg in
 * @nats-io/jetstream 3.x, not in the public type), or undefined when that is not where it is.
 */
export function replyOf(m: JsMsg): string | undefined {
  const reply = (m as unknown as { msg?: { reply?: unknown } }).msg?.reply;
  return typeof reply === 'string' && reply !== '' ? reply : undefined;
}

/** The report body: the raw body, or the `data` of a Hermes envelope holding it. */
function reportBody(msg: Record<string, unknown>): Record<string, unknown> {
  const isEnvelope = isObject(msg.data) && (typeof msg.source === 'string' || typeof msg.type === 'string');
  return isEnvelope ? (msg.data as Record<string, unknown>) : msg;
}

/**
 * Apply one message of swarm.task.<id>.<type>. Never throws for what the message says (the
 * outcome says it); throws only when Dispatch itself failed (then the message is redelivered).
 */
export async function applyWorkerReport(ctx: DispatchContext, subject: string, payload: string): Promise<ReportResult> {
  const [, , id, type] = subject.split('.');
  if (!type || !REPORT_TYPES.has(type)) return { outcome: 'ignored', reason: 'not a report subject' };
  if (!id || !UUID_RE.test(id)) return { outcome: 'invalid', reason: 'the subject names no task id' };
  let msg: unknown;
  try {
    msg = JSON.parse(payload);
  } catch {
    return { outcome: 'invalid', reason: 'payload is not JSON' };
  }
  if (!isObject(msg)) return { outcome: 'invalid', reason: 'payload is not an object' };
  if (msg.source === 'dispatch') return { outcome: 'ignored', reason: "Dispatch's own event" };
  const body = reportBody(msg);
  const named = body.agent ?? body.agent_id;
  if (named !== undefined && typeof named !== 'string') return { outcome: 'invalid', reason: 'agent is not a string' };
  try {
    const task = await getTask(ctx, id);
    // No agent named: the report counts for the current assignee (the compare-and-set still holds).
    const agent = named ?? task.assignee;
    if (agent === null) return { outcome: 'refused', reason: `task is ${task.status} with no assignee` };
    switch (type) {
      case 'started':
        if (task.status === 'running' && task.assignee === agent) return { outcome: 'ignored', reason: 'already running' };
        await reportProgress(ctx, agent, id, {});
        break;
      case 'progress': {
        const percent = typeof body.percent === 'number' ? body.percent : typeof body.progress === 'number' ? body.progress : undefined;
        await reportProgress(ctx, agent, id, {
          ...(typeof body.message === 'string' ? { message: body.message.slice(0, LIMITS.progressMessageMax) } : {}),
          ...(percent !== undefined && percent >= 0 && percent <= 100 ? { percent } : {}),
          ...(isObject(body.data) ? { data: body.data } : {}),
        });
        break;
      }
      case 'completed': {
        const result = body.result !== undefined ? body.result : body.summary !== undefined ? { summary: body.summary } : null;
        await completeTask(ctx, agent, id, { result });
        break;
      }
      case 'failed': {
        const error =
          typeof body.error === 'string' && body.error !== '' ? body.error.slice(0, LIMITS.errorMax) : 'failed (reported over NATS without an error)';
        const retryable = !(body.retry_eligible === false || body.retryable === false);
        await failTask(ctx, agent, id, { error, retryable });
        break;
      }
    }
    return { outcome: 'ok' };
  } catch (err) {
    if (err instanceof DispatchError && err.statusCode < 500) return { outcome: 'refused', reason: `${err.code}: ${err.message}` };
    throw err;
  }
}

export interface WorkerReports extends Component {
  /** Resolves once the durable consumer is consuming (tests publish after it). */
  ready(): Promise<void>;
}

export function createWorkerReports(ctx: DispatchContext, nats: NatsLink): WorkerReports {
  const log = ctx.logger.child({ component: 'worker-reports' });
  let started = false;
  let current: NatsConnection | undefined;
  let messages: ConsumerMessages[] = [];
  let loopDone: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let markReady: () => void = () => {};
  let readyP = new Promise<void>((r) => (markReady = r));
  /**
   * The ack subjects (replies) of the messages waiting to be acked, and their connection: only
   * the subjects are kept, not the messages, whose payloads (a whole envelope each) would
   * otherwise outlive a young-generation collection or two for nothing.
   */
  let ownAcks: string[] = [];
  let ownAckConn: NatsConnection | undefined;
  let ownAckTimer: NodeJS.Timeout | undefined;

  /** Ack the waiting own events, in one go (one write): what JsMsg.ack() publishes. */
  function flushOwnAcks(): void {
    clearTimeout(ownAckTimer);
    ownAckTimer = undefined;
    const acks = ownAcks;
    ownAcks = [];
    for (const reply of acks) {
      try {
        ownAckConn?.publish(reply, ACK);
      } catch {
        // connection closed: delivered again later, and skipped again
      }
    }
  }

  /** Acked unread, with the other own events' acks (one write, at most OWN_ACK_MS later). */
  function ackLater(m: JsMsg, nc: NatsConnection): void {
    const reply = replyOf(m);
    if (reply === undefined) return m.ack(); // not the nats.js this was written against: ack now
    if (ownAckConn !== nc) flushOwnAcks();
    ownAckConn = nc;
    ownAcks.push(reply);
    if (ownAcks.length >= OWN_ACK_MAX) flushOwnAcks();
    else ownAckTimer ??= setTimeout(flushOwnAcks, OWN_ACK_MS);
  }
  const ignored = ctx.metrics.natsReports.labels({ outcome: 'ignored' });

  async function handle(m: JsMsg, nc: NatsConnection): Promise<void> {
    // Dispatch's own event on a report's subject (its completed, …): acked unread.
    if (m.headers?.get(SOURCE_HEADER) === 'dispatch') {
      ackLater(m, nc);
      ignored.inc();
      return;
    }
    let res: ReportResult;
    try {
      res = await applyWorkerReport(ctx, m.subject, m.string());
    } catch (err) {
      ctx.metrics.natsReports.inc({ outcome: 'error' });
      log.warn({ err: (err as Error).message, subject: m.subject, delivery: m.info.deliveryCount }, 'applying a NATS report failed; redelivered');
      m.nak(1000);
      return;
    }
    turnOf(nc).defer(() => m.ack());
    ctx.metrics.natsReports.inc({ outcome: res.outcome });
    if (res.outcome === 'refused' || res.outcome === 'invalid') log.info({ subject: m.subject, reason: res.reason }, `${res.outcome} NATS report`);
  }

  /**
   * Where report consumers created now start: after what the one consumer of earlier releases
   * (LEGACY_REPORTS_DURABLE) acknowledged, when it exists, so no report is lost across an upgrade
   * (one it delivered but did not ack comes again, and is refused if it was applied); else at the
   * messages published from now on, not the stream's history.
   */
  async function startOf(jsm: JetStreamManager, stream: string): Promise<Partial<ConsumerConfig>> {
    const legacy = await jsm.consumers.info(stream, LEGACY_REPORTS_DURABLE).catch(() => undefined);
    const floor = legacy?.ack_floor.stream_seq ?? 0;
    return floor > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor + 1 } : { deliver_policy: DeliverPolicy.New };
  }

  async function consume(nc: NatsConnection): Promise<void> {
    await ensureTaskStream(nc, log, ctx.config.retention.event_ms / 3_600_000, ctx.config.hermes.stream_replicas);
    const jsm = await jetstreamManager(nc, { timeout: 5000 });
    const stream = await findCapturing(jsm, TASK_SUBJECTS);
    if (!stream) throw new Error(`no stream captures ${TASK_SUBJECTS}`);
    const start = await startOf(jsm, stream);
    const iters: ConsumerMessages[] = [];
    try {
      for (const type of REPORT_TYPE_LIST) {
        const durable = REPORT_DURABLES[type];
        const config = {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          ...start,
          filter_subject: `swarm.task.*.${type}`,
          max_deliver: MAX_DELIVER,
          ack_wait: 30_000 * 1_000_000,
        };
        // Created once (by whichever replica comes first; another's add of the same name fails, and it reads it).
        await jsm.consumers
          .info(stream, durable)
          .catch(() => jsm.consumers.add(stream, config))
          .catch(() => jsm.consumers.info(stream, durable));
        iters.push(await (await jetstream(nc).consumers.get(stream, durable)).consume({ max_messages: 256 }));
      }
    } catch (err) {
      await Promise.all(iters.map((i) => i.close().catch(() => {})));
      throw err;
    }
    if (await jsm.consumers.delete(stream, LEGACY_REPORTS_DURABLE).catch(() => false))
      log.info({ stream, durable: LEGACY_REPORTS_DURABLE }, 'deleted the one worker-reports consumer of earlier releases');
    messages = iters;
    log.info({ stream, durables: Object.values(REPORT_DURABLES) }, 'consuming worker reports');
    markReady();
    // One message at a time across the four consumers, in the order they arrive.
    let turn: Promise<void> = Promise.resolve();
    const inTurn = (m: JsMsg) =>
      (turn = turn
        .then(() => handle(m, nc))
        .catch((err: unknown) => log.warn({ err: (err as Error).message, subject: m.subject }, 'handling a NATS report failed')));
    loopDone = Promise.all(
      iters.map(async (iter) => {
        for await (const m of iter) await inTurn(m);
      }),
    ).then(() => {});
  }

  function attach(nc: NatsConnection): void {
    if (!started || current === nc) return;
    current = nc;
    clearTimeout(retry);
    consume(nc).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'cannot consume worker reports yet; retrying');
      current = undefined;
      retry = setTimeout(() => {
        const c = nats.connection();
        if (c) attach(c);
      }, RETRY_MS).unref();
    });
  }

  return {
    name: 'worker-reports',
    ready: () => readyP,
    async start() {
      if (!nats.enabled) return;
      started = true;
      readyP = new Promise<void>((r) => (markReady = r));
      nats.onConnected((nc) => attach(nc));
    },
    async stop() {
      started = false;
      clearTimeout(retry);
      current = undefined;
      flushOwnAcks();
      await Promise.all(messages.map((m) => m.close().catch(() => {})));
      messages = [];
      await Promise.race([loopDone, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
