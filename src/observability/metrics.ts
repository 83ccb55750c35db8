// Every metric the service exports (docs/events.md "Metrics, health, stats"), defined once on the service's own registry.
// Labels stay low-cardinality: never a task id; `agent` is bounded by the roster size.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Milliseconds to hours: tasks wait and run anywhere in that range.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 14400];
const TICK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const UPSTREAM_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'dispatch_' });
  // prom-client names these gauges *_total, which `promtool check metrics` rejects (the suffix is
  // for counters); they add little beside the event-loop and heap metrics, so they are dropped.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(`dispatch_${name}`);
  }
  const r = [registry];
  return {
    registry,
    tasksCreated: new Counter({ name: 'dispatch_tasks_created_total', help: 'Tasks created', registers: r }),
    transitions: new Counter({
      name: 'dispatch_task_transitions_total',
      help: 'Task status transitions by target status',
      labelNames: ['to'] as const,
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'dispatch_queue_depth',
      help: 'Tasks by live status (waiting, pending, assigned, running)',
      labelNames: ['status'] as const,
      registers: r,
    }),
    scheduleToAssign: new Histogram({
      name: 'dispatch_schedule_to_assign_seconds',
      help: 'Time from created or retried to assigned',
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    taskDuration: new Histogram({
      name: 'dispatch_task_duration_seconds',
      help: 'Time from assigned to terminal, by outcome',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    tickDuration: new Histogram({ name: 'dispatch_tick_duration_seconds', help: 'Duration of one scheduler pass', buckets: TICK_BUCKETS, registers: r }),
    agentActiveTasks: new Gauge({
      name: 'dispatch_agent_active_tasks',
      help: 'Active (assigned or running) tasks per agent',
      labelNames: ['agent'] as const,
      registers: r,
    }),
    agentSuccessRatio: new Gauge({
      name: 'dispatch_agent_success_ratio',
      help: "Completed share of an agent's last assignment.track_record_size finished attempts (agents with a record)",
      labelNames: ['agent'] as const,
      registers: r,
    }),
    retries: new Counter({ name: 'dispatch_retries_total', help: 'Retries spent, by reason', labelNames: ['reason'] as const, registers: r }),
    upstreamRequests: new Counter({
      name: 'dispatch_upstream_requests_total',
      help: 'Requests to neighbouring services',
      labelNames: ['service', 'outcome'] as const,
      registers: r,
    }),
    upstreamDuration: new Histogram({
      name: 'dispatch_upstream_request_duration_seconds',
      help: 'Latency of requests to neighbouring services',
      labelNames: ['service'] as const,
      buckets: UPSTREAM_BUCKETS,
      registers: r,
    }),
    eventsUnpublished: new Gauge({ name: 'dispatch_events_unpublished', help: 'Outbox events not yet published to NATS', registers: r }),
    oldestPending: new Gauge({
      name: 'dispatch_queue_oldest_pending_seconds',
      help: 'Age of the longest-waiting pending task (since created or re-queued); 0 when none',
      registers: r,
    }),
    natsConnected: new Gauge({ name: 'dispatch_nats_connected', help: '1 when connected to NATS, 0 when down, -1 when not configured', registers: r }),
    consumedMessages: new Counter({
      name: 'dispatch_consumed_messages_total',
      help: 'NATS messages consumed, by kind (agent_state, task_request) and outcome (ok, invalid, error)',
      labelNames: ['kind', 'outcome'] as const,
      registers: r,
    }),
    callbackDeliveries: new Counter({
      name: 'dispatch_callback_deliveries_total',
      help: 'Callback POST attempts settled, by outcome (delivered, retry, failed)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    syncMatches: new Counter({
      name: 'dispatch_sync_matches_total',
      help: "Plain creates by what the sync match did (CONTRACT §17): assigned; the database's refusal (at_limit, drained, older_waiting, backlog); or not tried: no_view (no tick lately, or creates wait behind a refusal until the next tick), no_agent (no agent as last known can take it)",
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    natsReports: new Counter({
      name: 'dispatch_nats_reports_total',
      help: 'Worker reports consumed from swarm.task.<id>.started|progress|completed|failed, by outcome (ok, ignored, refused, invalid, error)',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    httpRequests: new Counter({
      name: 'dispatch_http_requests_total',
      help: 'API requests by route and status class',
      labelNames: ['route', 'status'] as const,
      registers: r,
    }),
    tableBytes: new Gauge({
      name: 'dispatch_table_bytes',
      help: 'Total size of a table (heap, indexes, TOAST), read at scrape time',
      labelNames: ['table'] as const,
      registers: r,
    }),
    retentionDeleted: new Counter({
      name: 'dispatch_retention_deleted_total',
      help: 'Rows the retention purge deleted, by kind (tasks, events, deliveries, idempotency_keys, runs, schedule_runs)',
      labelNames: ['kind'] as const,
      registers: r,
    }),
    callsInFlight: new Gauge({
      name: 'dispatch_calls_in_flight',
      help: 'HTTP attempts in flight on this replica, by kind (call: call tasks; endpoint: pushes to endpoint agents)',
      labelNames: ['kind'] as const,
      registers: r,
    }),
    callAttempts: new Counter({
      name: 'dispatch_call_attempts_total',
      help: 'HTTP attempts finished, by kind (call, endpoint) and outcome (completed, accepted, retry, failed, timed_out, lost)',
      labelNames: ['kind', 'outcome'] as const,
      registers: r,
    }),
    callStartDelay: new Histogram({
      name: 'dispatch_call_start_delay_seconds',
      help: "Time from a call task's due instant (created, re-queued or not_before) to its request being sent",
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    authFailures: new Counter({
      name: 'dispatch_auth_failures_total',
      help: 'Failed authentications in auth.mode=token by reason (missing, malformed, unknown, revoked, mismatch)',
      labelNames: ['reason'] as const,
      registers: r,
    }),
    flowDeferred: new Counter({
      name: 'dispatch_flow_deferred_total',
      help: 'Starts held back by a flow key (an agent could take the task; its key was out of tokens, at its concurrency or paused), by limit pattern ("none": a pause without a limit)',
      labelNames: ['limit'] as const,
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The timestamps of a task row that metrics derive latencies from. */
export interface TransitionFacts {
  status: string;
  queued_at: Date;
  assigned_at: Date | null;
  completed_at: Date | null;
}

/**
 * Record one committed transition: the transition counter, schedule→assign latency on
 * `assigned`, assigned→terminal duration on a terminal status, and a retry when `retryReason`.
 */
export function recordTransition(m: Metrics, after: TransitionFacts, retryReason?: string): void {
  m.transitions.inc({ to: after.status });
  if (after.status === 'assigned' && after.assigned_at) {
    m.scheduleToAssign.observe(Math.max(0, after.assigned_at.getTime() - after.queued_at.getTime()) / 1000);
  }
  if (['completed', 'failed', 'timed_out', 'cancelled'].includes(after.status) && after.assigned_at) {
    const end = after.completed_at ?? new Date();
    m.taskDuration.observe({ outcome: after.status }, Math.max(0, end.getTime() - after.assigned_at.getTime()) / 1000);
  }
  if (retryReason) m.retries.inc({ reason: retryReason });
}
