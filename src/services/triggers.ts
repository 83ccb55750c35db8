// Trigger events (CONTRACT §19.1, docs/workflows.md "Triggers"): an event starts one run of the
// latest version of every workflow whose trigger lists its type, with context
// {event: {id, type, user_id, intent_id, payload}}. The event row, its runs (every step's task,
// edges and events) and its idempotency claim are one transaction, so an event delivered twice
// (a repeated Idempotency-Key, a redelivered NATS message) or received by two replicas at once
// starts its runs exactly once: the second claim waits on the first's row and then finds it.
import { createHash, randomUUID } from 'node:crypto';
import type { ServiceContext } from '../context.js';
import { canonical } from '../core/ids.js';
import { listensTo } from '../core/workflow.js';
import { DispatchError, ValidationError } from '../errors.js';
import { LIMITS } from '../schemas/task.js';
import type { ListTriggerEventsQuery, TriggerEventBody } from '../schemas/trigger.js';
import { inTransaction, type Tx } from '../store/db.js';
import { claimKey, TRIGGER_KEYS } from '../store/idempotency.js';
import { getTriggerEvent, insertTriggerEvent, listTriggerEvents, type TriggerEventRow } from '../store/triggers.js';
import { listeningWorkflows } from '../store/workflows.js';
import type { TaskRow } from '../core/task.js';
import { IDEMPOTENCY_WINDOW_MS } from './housekeeping.js';
import { decodeCursor, encodeCursor } from './tasks.js';
import { startRunIn } from './workflows.js';
import { announceEvents } from './announce.js';

export interface TriggerEvent {
  id: string;
  type: string;
  requester: string;
  user_id: string | null;
  intent_id: string | null;
  payload: unknown;
  runs: string[];
  created_at: string;
}

const toApi = (r: TriggerEventRow): TriggerEvent => ({
  id: r.id,
  type: r.type,
  requester: r.requester,
  user_id: r.user_id,
  intent_id: r.intent_id,
  payload: r.payload ?? null,
  runs: r.runs,
  created_at: r.created_at.toISOString(),
});

/**
 * Store an event and start its runs (202 {event_id, runs}). With an idempotency key, the same
 * key from the same requester within 24 h answers the first event (its runs), a different body
 * → 409 idempotency_conflict.
 */
export async function postTriggerEvent(
  ctx: Pick<ServiceContext, 'sql' | 'clock' | 'config' | 'metrics' | 'signals'>,
  requester: string,
  body: TriggerEventBody,
  idempotencyKey?: string,
): Promise<{ event: TriggerEvent; created: boolean }> {
  const payload = body.payload ?? null;
  if (Buffer.byteLength(JSON.stringify(payload), 'utf8') > LIMITS.contextBytes) {
    throw new ValidationError('payload is too large', [{ field: 'payload', message: `must be at most ${LIMITS.contextBytes} bytes serialized` }]);
  }
  const now = ctx.clock.now();
  const id = randomUUID();
  const out = await inTransaction(ctx.sql, async (tx: Tx) => {
    if (idempotencyKey !== undefined) {
      const bodyHash = createHash('sha256').update(canonical(body)).digest('hex');
      const claim = await claimKey(
        tx,
        TRIGGER_KEYS,
        { requester, key: idempotencyKey, body_hash: bodyHash, ref: id, created_at: now },
        new Date(now.getTime() - IDEMPOTENCY_WINDOW_MS),
      );
      if (!claim.claimed) {
        if (claim.existing.body_hash !== bodyHash) {
          throw new DispatchError('idempotency_conflict', 409, 'this Idempotency-Key was used with a different body', { event_id: claim.existing.ref });
        }
        const first = await getTriggerEvent(tx, claim.existing.ref);
        if (!first) throw new Error(`idempotency key points at missing trigger event ${claim.existing.ref}`);
        return { row: first, created: false, tasks: [] as TaskRow[] };
      }
    }
    const row: TriggerEventRow = {
      id,
      type: body.type,
      requester,
      user_id: body.user_id ?? null,
      intent_id: body.intent_id ?? null,
      payload,
      runs: [],
      created_at: now,
    };
    const context = { event: { id, type: row.type, user_id: row.user_id, intent_id: row.intent_id, payload } };
    const origin = { user_id: row.user_id, intent_id: row.intent_id, trigger_event_id: id };
    const tasks: TaskRow[] = [];
    for (const wf of (await listeningWorkflows(tx)).filter((w) => listensTo(w.trigger, body.type))) {
      const runId = randomUUID();
      tasks.push(...(await startRunIn(ctx, tx, requester, wf.key, context, now, runId, origin)));
      row.runs.push(runId);
    }
    await insertTriggerEvent(tx, row);
    return { row, created: true, tasks };
  });
  if (out.tasks.length) {
    announceEvents(ctx);
    ctx.metrics.tasksCreated.inc(out.tasks.length);
    if (out.tasks.some((r) => r.status === 'pending')) ctx.signals.emit('assign-needed');
  }
  return { event: toApi(out.row), created: out.created };
}

export async function listTriggerEventsPage(
  ctx: Pick<ServiceContext, 'sql'>,
  q: ListTriggerEventsQuery,
): Promise<{ events: TriggerEvent[]; next_cursor: string | null }> {
  const limit = q.limit ?? LIMITS.listLimitDefault;
  const after = q.cursor !== undefined ? decodeCursor(q.cursor) : undefined;
  const rows = await listTriggerEvents(ctx.sql, { ...(q.type !== undefined ? { type: q.type } : {}), ...(after ? { after } : {}), limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { events: page.map(toApi), next_cursor: rows.length > limit && last ? encodeCursor(last.cursor_ts, last.id) : null };
}
