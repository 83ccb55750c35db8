// In-process signals between components of one replica. Other replicas are woken from these by
// events/wakes.ts (NATS, or one NOTIFY per turn outside any write).
import { EventEmitter } from 'node:events';
import type { CommittedEvents } from './store/events.js';

export interface SignalMap {
  /** A neighbour told us an agent's state changed (e.g. Warren's swarm.agent.<name>.<state>). */
  'agent-state': [{ agent: string; state: string; reason?: string }];
  /**
   * Something happened that may make an assignment possible now: 'freed' when only an agent's
   * slot was freed (a task ended), which matters only while tasks wait; otherwise (a task became
   * pending, an agent came back) always worth a tick.
   */
  'assign-needed': [reason?: 'freed'];
  /**
   * A write of this replica off the hot paths (a sweep, a cancel, a drain, a workflow) committed
   * changes that may end waits: agents whose long-polls have something, tasks whose awaits should
   * re-read (services/announce.ts).
   */
  'tasks-changed': [{ agents: readonly string[]; tasks: readonly string[] }];
  /** Outbox rows were committed by this replica. */
  'events-written': [];
  /** A write of this replica committed these events: the relay's fast path publishes them now (events/fast-path.ts). */
  'events-committed': [CommittedEvents];
}

export class Signals extends EventEmitter<SignalMap> {}
