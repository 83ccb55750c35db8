// Fair share between requesters (§16.3, docs/fairness.md). Pure: orders tasks, reads nothing.
//
// Within one priority, free slots go round-robin across requesters: round 1 is every requester's
// oldest task, round 2 every requester's second oldest, and so on. Inside a round the requesters
// go in turn order: the one served longest ago first (a requester never served before anyone
// served), then the one whose oldest task is oldest. Each requester's own tasks stay in age order,
// and priority still wins over fairness (a higher band comes before any lower one).

/** What ordering needs of a task. */
export interface FairTask {
  id: string;
  priority: number;
  requester: string;
  created_at: Date;
}

/** requester → when it was last served (a sequence number: larger = more recently); missing = never. */
export type Turns = ReadonlyMap<string, number>;

const byAge = (a: FairTask, b: FairTask): number => {
  const d = a.created_at.getTime() - b.created_at.getTime();
  if (d !== 0) return d;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/** The requesters of one band in turn order, each with its tasks oldest first. */
export function requesterQueues<T extends FairTask>(tasks: readonly T[], turns: Turns): T[][] {
  const queues = new Map<string, T[]>();
  for (const t of tasks) {
    const q = queues.get(t.requester);
    if (q) q.push(t);
    else queues.set(t.requester, [t]);
  }
  const list = [...queues.entries()].map(([requester, q]) => ({ requester, q: q.sort(byAge), turn: turns.get(requester) }));
  list.sort((a, b) => {
    const ta = a.turn ?? -Infinity;
    const tb = b.turn ?? -Infinity;
    if (ta !== tb) return ta < tb ? -1 : 1;
    const age = byAge(a.q[0]!, b.q[0]!);
    if (age !== 0) return age;
    return a.requester < b.requester ? -1 : a.requester > b.requester ? 1 : 0;
  });
  return list.map((x) => x.q);
}

/**
 * `tasks` in fair order: priority descending; within a priority, round-robin across requesters in
 * turn order, each requester's tasks oldest first. A permutation of the input.
 */
export function fairOrder<T extends FairTask>(tasks: readonly T[], turns: Turns): T[] {
  const bands = new Map<number, T[]>();
  for (const t of tasks) {
    const b = bands.get(t.priority);
    if (b) b.push(t);
    else bands.set(t.priority, [t]);
  }
  const out: T[] = [];
  for (const p of [...bands.keys()].sort((a, b) => b - a)) {
    const queues = requesterQueues(bands.get(p)!, turns);
    for (let round = 0; out.length < tasks.length; round++) {
      let any = false;
      for (const q of queues) {
        const t = q[round];
        if (t) {
          out.push(t);
          any = true;
        }
      }
      if (!any) break;
    }
  }
  return out;
}

/**
 * The requesters given slots (in the order their tasks were assigned), each once, ordered by its
 * LAST assignment: the order in which their turns are stamped, so the last served goes last.
 */
export function servedOrder(served: readonly string[]): string[] {
  const last = new Map<string, number>();
  served.forEach((r, i) => last.set(r, i));
  return [...last.entries()].sort((a, b) => a[1] - b[1]).map(([r]) => r);
}
