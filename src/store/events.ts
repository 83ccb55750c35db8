// The outbox: lifecycle events in the CONTRACT §6 envelope, inserted in the transaction of the
// change they describe. The relay (events/) publishes rows with published_at null, oldest first.
import { randomUUID } from 'node:crypto';
import type { EventType, Task } from '../core/task.js';
import type { Db, Tx } from './db.js';

export interface EventDraft {
  type: EventType;
  task: Task;
  /** Type-specific fields, merged into `data` beside `task`. */
  extra?: Record<string, unknown>;
}

export interface EventEnvelope {
  id: string;
  type: `task.${EventType}`;
  source: 'dispatch';
  timestamp: string;
  correlation_id: string;
  data: { task: Task } & Record<string, unknown>;
}

export function buildEnvelope(draft: EventDraft, now: Date, id: string = randomUUID()): EventEnvelope {
  return {
    id,
    type: `task.${draft.type}`,
    source: 'dispatch',
    timestamp: now.toISOString(),
    correlation_id: draft.task.id,
    data: { task: draft.task, ...(draft.extra ?? {}) },
  };
}

export function subjectOf(taskId: string, type: EventType): string {
  return `swarm.task.${taskId}.${type}`;
}

export async function insertEvents(tx: Tx, drafts: EventDraft[], now: Date): Promise<EventEnvelope[]> {
  if (drafts.length === 0) return [];
  const envelopes = drafts.map((d) => buildEnvelope(d, now));
  const rows = envelopes.map((e, i) => ({
    id: e.id,
    task_id: e.correlation_id,
    type: drafts[i]!.type,
    envelope: tx.json(e as never),
    created_at: now,
  }));
  await tx`insert into task_events ${tx(rows as never)}`;
  return envelopes;
}

export interface StoredEvent {
  seq: number;
  id: string;
  task_id: string;
  type: EventType;
  envelope: EventEnvelope;
  created_at: Date;
  published_at: Date | null;
}

export async function eventsOfTask(db: Db, taskId: string): Promise<EventEnvelope[]> {
  const rows = await db<{ envelope: EventEnvelope }[]>`
    select envelope from task_events where task_id = ${taskId} order by seq`;
  return rows.map((r) => r.envelope);
}
