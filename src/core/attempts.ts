// A task's attempts (GET /api/v1/tasks/:id/attempts, CONTRACT §18.1, docs/calls.md), derived
// from its lifecycle events — every task's, not only call tasks': an `assigned` event opens an
// attempt, the event that ends it (completed, failed, timeout, cancelled, reassigned) closes it.
// A call's answer travels on those events (`status_code`), its streamed lines are its progress
// events marked `streamed`. Nothing is written twice to keep them; what the retention purge
// removed of a live task's events is gone from its attempts too. Pure.
import { CALL_BOUNDS, cutBytes } from './calls.js';
import { CALL_ASSIGNEE } from './call-spec.js';

export type AttemptOutcome = 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'running';

export interface Attempt {
  attempt: number;
  agent: string | null;
  started_at: string;
  finished_at: string | null;
  outcome: AttemptOutcome;
  duration_ms: number | null;
  status_code?: number | null;
  error?: string;
  log?: string;
}

/** What the derivation reads of an event (the §6 envelope). */
export interface AttemptEvent {
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { task?: { error?: string | null; progress?: { message?: string } | null } };
}

interface Open {
  a: Attempt;
  log: string[];
  logBytes: number;
  call: boolean;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The attempts of a task from its events, oldest first. */
export function attemptsOf(events: readonly AttemptEvent[]): Attempt[] {
  const out: Attempt[] = [];
  let open: Open | undefined;
  const close = (at: string, outcome: Exclude<AttemptOutcome, 'running'>, e: AttemptEvent, error?: string | null) => {
    if (!open) return;
    const a = open.a;
    a.finished_at = at;
    a.outcome = outcome;
    a.duration_ms = Math.max(0, Date.parse(at) - Date.parse(a.started_at));
    if ('status_code' in e.data) a.status_code = typeof e.data.status_code === 'number' ? e.data.status_code : null;
    else if (open.call) a.status_code = null;
    if (error) a.error = cutBytes(error, CALL_BOUNDS.messageBytes);
    if (open.log.length) a.log = open.log.join('\n');
    open = undefined;
  };
  for (const e of events) {
    const type = e.type.startsWith('task.') ? e.type.slice(5) : e.type;
    const taskError = e.data.task?.error ?? null;
    switch (type) {
      case 'assigned': {
        if (open) close(e.timestamp, 'failed', e, 'superseded');
        const agent = str(e.data.agent) ?? null;
        const a: Attempt = { attempt: out.length + 1, agent, started_at: e.timestamp, finished_at: null, outcome: 'running', duration_ms: null };
        out.push(a);
        open = { a, log: [], logBytes: 0, call: agent === CALL_ASSIGNEE };
        break;
      }
      case 'progress': {
        const msg = e.data.task?.progress?.message;
        if (open && e.data.streamed === true && typeof msg === 'string' && open.logBytes < CALL_BOUNDS.logBytes) {
          const line = cutBytes(msg, CALL_BOUNDS.logBytes - open.logBytes);
          open.log.push(line);
          open.logBytes += new TextEncoder().encode(line).length + 1;
        }
        break;
      }
      case 'completed':
        close(e.timestamp, 'completed', e);
        break;
      case 'failed':
        close(e.timestamp, 'failed', e, taskError);
        break;
      case 'timeout':
        close(e.timestamp, 'timed_out', e, taskError);
        break;
      case 'cancelled':
        close(e.timestamp, 'cancelled', e);
        break;
      case 'reassigned': {
        const reason = str(e.data.reason) ?? 'reassigned';
        close(e.timestamp, reason === 'wake_timeout' ? 'timed_out' : 'failed', e, `reassigned: ${reason}`);
        break;
      }
      default:
        break;
    }
  }
  return out;
}
