// Which held requests a committed change may end (events/wakes.ts, docs/waiting.md "Wake-ups"):
// the assignee's long-poll when a task became assigned to it or got its input answered; the
// task's awaits when it ended or started waiting for input. Pure: the rule the triggers of
// migrations 0010/0030 applied, now one function the writers call after their commit.
import { TERMINAL_STATUSES, type TaskRow } from './task.js';

export interface ChangeWakes {
  /** Agents whose long-polls have something to take now. */
  agents: string[];
  /** Tasks whose awaits should read their task again. */
  tasks: string[];
}

export function wakesOf(changes: readonly { before?: TaskRow; next: TaskRow }[]): ChangeWakes {
  const agents = new Set<string>();
  const tasks = new Set<string>();
  for (const { before, next } of changes) {
    if (next.assignee !== null) {
      const newlyAssigned = next.status === 'assigned' && (before?.status !== 'assigned' || before.assignee !== next.assignee);
      const answered = before?.status === 'input_required' && next.status === 'running';
      if (newlyAssigned || answered) agents.add(next.assignee);
    }
    const ended = TERMINAL_STATUSES.includes(next.status) && !(before && TERMINAL_STATUSES.includes(before.status));
    const asks = next.status === 'input_required' && before?.status !== 'input_required';
    if (ended || asks) tasks.add(next.id);
  }
  return { agents: [...agents], tasks: [...tasks] };
}
