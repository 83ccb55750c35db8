// After the commit of a write off the hot paths (sweeps, cancels, drains, dependents, workflow
// runs, schedule and webhook creates): tell this replica's waiters and the other replicas what it
// may have ended (events/wakes.ts). The hot paths hand their committed events instead
// ('events-committed'). No NOTIFY is sent inside a write since migration 0037.
import { wakesOf } from '../core/wakes.js';
import type { TaskRow } from '../core/task.js';
import type { Signals } from '../signals.js';

/** Changed task rows (as written): wake what they may end, and the event feed. */
export function announceChanges(ctx: { signals: Signals }, changes: readonly { before?: TaskRow; next: TaskRow }[]): void {
  if (changes.length === 0) return;
  ctx.signals.emit('tasks-changed', wakesOf(changes));
}

/** New events were committed that end no wait (created tasks, run events): the feed and the relays. */
export function announceEvents(ctx: { signals: Signals }): void {
  ctx.signals.emit('events-written');
}
