// Generated from openapi.yaml by packages/client/scripts/generate.ts — do not edit; run `npm run client:generate`.
/* eslint-disable */
export interface paths {
  '/api/v1/tasks': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List tasks, newest first
     * @description Keyset pagination: pass next_cursor as cursor; stable while tasks are being created.
     */
    get: operations['listTasks'];
    put?: never;
    /**
     * Create a task
     * @description Any agent; the caller's X-Agent-ID becomes the requester. With Idempotency-Key, a repeat of the same request within 24 h returns the original task with 200.
     */
    post: operations['createTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Get a task; with wait, await its end
     * @description With wait=S (0..60): answers at once when the task is terminal, else when it becomes terminal or after S seconds, with the task as it is then. A held request costs no database query while it waits.
     */
    get: operations['getTask'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Cancel a task, merge its context, or change its priority
     * @description Requester or admin only. status "cancelled" from pending, assigned or running; context keys are merged while the task is not terminal; priority only while pending.
     */
    patch: operations['patchTask'];
    trace?: never;
  };
  '/api/v1/tasks/{id}/complete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Report the task done (assignee only)
     * @description From assigned or running.
     */
    post: operations['completeTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/fail': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Report the attempt failed (assignee only)
     * @description Retryable with retries left → pending with retry_count+1 and not_before = now + backoff; otherwise failed.
     */
    post: operations['failTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/progress': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Report progress (assignee only)
     * @description The first report moves assigned → running and stamps started_at.
     */
    post: operations['reportProgress'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/input-required': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Ask the requester a question (assignee only)
     * @description From running: status input_required, still the assignee's (its slot stays taken), no attempt or heartbeat deadline while it waits; after input_timeout_ms without an answer it ends timed_out (event timeout, reason input). Event input_required with data.question. Not running → 409; another agent → 403.
     */
    post: operations['requestInput'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/input': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Answer the question of a task waiting for input (requester or admin)
     * @description From input_required: back to running for the same assignee, with a fresh attempt deadline; event input_received with data.answer. The worker hears it on NATS (swarm.task.<id>.input_received), SSE and its long-poll. Any other status → 409 invalid_transition; anyone else → 403 forbidden.
     */
    post: operations['answerTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/heartbeat': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Heartbeat (assignee only): the task is still being worked on
     * @description No body, 204. Moves the heartbeat deadline (heartbeat_timeout_ms from now) without an event; writes are coalesced for up to 1 s. Does not acknowledge an assignment (the first progress does). Not assigned or running → 409; another agent → 403.
     */
    post: operations['heartbeatTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/retry': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Retry a failed, timed-out or cancelled task (requester or admin)
     * @description Back to pending (or waiting while its dependencies are not all completed) with retry_count 0; the error stays until the next attempt; event requeued. The tasks cancelled because of it return to waiting and its workflow run to running. Any other status → 409.
     */
    post: operations['retryTask'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/explain': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Why this agent, why none (read-only)
     * @description Every agent the directory knows, scored and with its reasons, best first, and the decision the scheduler would take now, by the same rules; for an assigned, running or finished task also the assignment as recorded.
     */
    get: operations['explainTask'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The task's lifecycle events, oldest first (JSON, or SSE with Accept: text/event-stream)
     * @description With Accept: text/event-stream: every stored event, oldest first, then each new one as it is committed; the stream ends after a terminal event; Last-Event-ID resumes after that event.
     */
    get: operations['taskEvents'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/workflows/{key}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a workflow (latest version) */
    get: operations['getWorkflow'];
    /**
     * Store a workflow definition
     * @description Any agent. JSON, or YAML with Content-Type: application/yaml. A new key → 201 (version 1); a changed definition → 200 with the next version; an identical one → 200, nothing changed. Unknown or duplicate step ids → 400 validation_failed; a cycle → 400 workflow_cycle with details.cycle; at most 200 steps.
     */
    put: operations['putWorkflow'];
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/workflows': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List workflows (latest versions) */
    get: operations['listWorkflows'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/workflows/{key}/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Start a run of a workflow
     * @description Any agent (the run's requester). One task per step, created with the run in one transaction: steps without dependencies pending, the others waiting. `context` is merged into every step's task context. With Idempotency-Key, a repeat within 24 h returns the original run with 200.
     */
    post: operations['startRun'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List workflow runs, newest first */
    get: operations['listRuns'];
    put?: never;
    /**
     * Start a run from the Wisely seed's dispatch body
     * @description Any agent (the run's requester). As POST /api/v1/workflows/{key}/runs with context {user_id, intent_id, payload} (null where not given); the run shows user_id and intent_id. Unknown workflow_key → 404. With Idempotency-Key, a repeat within 24 h returns the original run with 200.
     */
    post: operations['dispatchRun'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/runs/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a workflow run */
    get: operations['getRun'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /**
     * Cancel a workflow run
     * @description Requester or admin. Every task of the run that is not finished is cancelled; the run becomes cancelled (or stays failed). A completed or cancelled run → 409.
     */
    patch: operations['cancelRun'];
    trace?: never;
  };
  '/api/v1/schedules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List schedules, newest first */
    get: operations['listSchedules'];
    put?: never;
    /**
     * Create a schedule
     * @description Any agent (the requester of every task it makes). Exactly one of cron/calendar and of task/workflow. A bad cron, an unknown time zone, a bad calendar time or weekday, end_at before start_at, an invalid task template or an unknown workflow key → 400 validation_failed with details naming the field; a name the requester already uses → 409 schedule_exists.
     */
    post: operations['createSchedule'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a schedule */
    get: operations['getSchedule'];
    put?: never;
    post?: never;
    /**
     * Delete a schedule
     * @description Requester or admin. Waits for a firing in flight; its history goes with it; the tasks and runs it made are untouched.
     */
    delete: operations['deleteSchedule'];
    options?: never;
    head?: never;
    /**
     * Change a schedule (pause, resume, retime, …)
     * @description Requester or admin. Any writable field. Setting cron clears calendar (and the reverse), setting task clears workflow (and the reverse). A changed timetable or a resume recomputes next_run_at from now; occurrences while paused are not caught up.
     */
    patch: operations['patchSchedule'];
    trace?: never;
  };
  '/api/v1/schedules/{id}/preview': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The next occurrences
     * @description The next count (1..100, default 10) instants from now, UTC, honouring the time zone, DST, start_at and end_at; paused schedules preview too.
     */
    get: operations['previewSchedule'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}/runs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Occurrences fired or skipped, newest first */
    get: operations['scheduleRuns'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/schedules/{id}/trigger': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Fire one occurrence now, outside the timetable
     * @description Requester or admin. Creates the schedule's task (or run) now, with scheduled_for = now, whatever overlap says and even while paused; it becomes the previous occurrence for overlap. The timetable is unchanged.
     */
    post: operations['triggerSchedule'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/trigger-events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List trigger events with their runs, newest first */
    get: operations['listTriggerEvents'];
    put?: never;
    /**
     * Post a trigger event
     * @description Any agent (the requester of the runs it starts). One run of the latest version of every workflow whose trigger lists the type, context {event: {id, type, user_id, intent_id, payload}}; none listening → runs []. The same body published on NATS swarm.trigger.<type> does the same. With Idempotency-Key, a repeat within 24 h answers the first event and starts nothing; a different body with that key → 409 idempotency_conflict.
     */
    post: operations['postTriggerEvent'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agents': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List agents
     * @description Admin. The neighbours' merged view (from cache: never waits for a neighbour) with each agent's active tasks, limit and drain flag. Agents known only to Dispatch (drained, or holding tasks) are listed with state "unknown".
     */
    get: operations['listAgents'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agents/{id}/drain': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Drain an agent
     * @description Admin. The agent gets no new assignments; its running work continues. Persisted in the database: survives restarts and is shared by replicas. Any valid agent id is accepted (an agent can be drained before it appears).
     */
    post: operations['drainAgent'];
    /**
     * Lift an agent's drain
     * @description Admin. The agent may be assigned work again.
     */
    delete: operations['undrainAgent'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agents/{id}/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List an agent's tokens
     * @description Admin. Live tokens, oldest first: metadata only, never the token.
     */
    get: operations['listAgentTokens'];
    put?: never;
    /**
     * Issue an agent token
     * @description Admin. The token (at least 32 random bytes) is in this answer only; Dispatch keeps its SHA-256. In auth.mode=token it is the agent's identity on every /api/v1 request.
     */
    post: operations['issueAgentToken'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agents/{id}/tokens/{token_id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /**
     * Revoke an agent token
     * @description Admin. Refused from the moment this answers on this replica, and on every other within 1 s (NOTIFY, and a 1 s cache bound).
     */
    delete: operations['revokeAgentToken'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/stats': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Queue statistics
     * @description Admin only. Task counts by status, mean completion time (created → completed) and the age of the oldest pending task (since created or last re-queued). Read from maintained counters: constant time however many tasks have finished.
     */
    get: operations['getStats'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/stats/timeline': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Tasks created and finished per minute
     * @description Admin only. The last 60 minutes, oldest first, each with the tasks created and the tasks finished (reached a terminal status) in it; the current minute is last. Two indexed range reads (created_at, completed_at).
     */
    get: operations['getStatsTimeline'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/flow/limits/{key}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set a flow limit
     * @description Admin. The limit of a pattern (an exact flow key, or a prefix ending in *): every distinct key it matches gets its own token bucket (rate per per_ms, at most burst) and/or concurrency. The longest matching pattern applies to a key; this api limit overrides a config limit (flow.limits) of the same pattern. Stored in the database: shared by replicas at their next tick.
     */
    put: operations['putFlowLimit'];
    post?: never;
    /**
     * Remove an api flow limit
     * @description Admin. Removes the pattern's api limit; a config limit of the same pattern applies again. 404 when the pattern has no api limit.
     */
    delete: operations['deleteFlowLimit'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/flow/limits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List flow limits
     * @description Admin. The limits in force, by pattern.
     */
    get: operations['listFlowLimits'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/flow/keys/{key}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A flow key's state
     * @description Its limit (the longest matching pattern), the tokens in its bucket now, its active tasks and its pause. Any key may be asked: one never used shows a full bucket.
     */
    get: operations['getFlowKey'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/flow/keys/{key}/pause': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Pause a flow key
     * @description The key (exactly this key, not a pattern) starts nothing until `until` (in the future, at most 24 h ahead); its pending tasks wait and start from the first tick after it. E.g. an agent that got its model's 429 pauses the key until the reset. A later pause replaces an earlier one.
     */
    post: operations['pauseFlowKey'];
    /**
     * Lift a flow key's pause
     * @description Its tasks may start at once (204 also when it was not paused).
     */
    delete: operations['unpauseFlowKey'];
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/hooks/{source}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Receive a signed webhook
     * @description For systems that cannot send X-Agent-ID (GitHub, Stripe, a CI). The source is configured under intake: in config.yaml. The signature header (intake.<source>.signature_header) must be sha256=<hex of HMAC-SHA256(secret, raw body)>, else 401 invalid_signature. With intake.<source>.event_header and events, an event not listed → 202 {"ignored": true}. With intake.<source>.delivery_header (then required), a repeated delivery id (kept 7 days) → 200 with the first task/run. Otherwise 201 {"task": Task} (a task source) or {"run": Run} (a workflow source). Nothing is stored on any refusal.
     */
    post: operations['receiveHook'];
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/agents/{id}/assignments': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Long-poll for the agent's assigned tasks
     * @description X-Agent-ID must equal :id (else 403 forbidden). Answers at once when the agent has assigned tasks or wait is 0; otherwise held until a task is assigned to the agent (answered within 100 ms of the assignment) or wait seconds pass (then {"tasks":[]}). A held request costs no database query while it waits.
     */
    get: operations['pollAssignments'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Every task and run event, as server-sent events
     * @description Admin. Send Accept: text/event-stream (anything else → 406 not_acceptable). Events committed from now on, or after Last-Event-ID, in commit-safe outbox order, each once; filters type (comma list), requester, assignee.
     */
    get: operations['eventFirehose'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The task's callback deliveries, oldest first
     * @description One per event POSTed (or to be POSTed) to the callback_url: pending (next_attempt_at is when the next attempt is due), delivered (a 2xx answer) or failed (webhooks.max_attempts attempts without one).
     */
    get: operations['taskDeliveries'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/v1/tasks/{id}/attempts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The task's attempts, oldest first
     * @description Every task's, not only call tasks': one per assignment, from its lifecycle events (an attempt opens at `assigned` and ends at completed, failed, timeout, cancelled or reassigned; reassigned after a wake timeout counts as timed_out, after an agent was lost as failed). A call task's (and an endpoint push's) attempts carry status_code (null: no answer), error (at most 4 KiB of the answer) and log (the streamed events, at most 16 KiB). Attempts whose events the retention purge removed are gone.
     */
    get: operations['taskAttempts'];
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    Agent: {
      /** @description Agent id (PromptForge persona slug = Warren agent name) */
      id: string;
      name: string;
      /** @description Lower-case capability tags */
      capabilities: string[];
      /** @description ready | sleeping | starting | degraded | unknown (not known to the availability source) */
      state: string;
      /** @description Owners known (from cache) to hold this agent */
      owner_ids?: string[];
      /** @description Assigned + running tasks */
      active_tasks: number;
      max_concurrent: number;
      drained: boolean;
      /** @description The agent's last assignment.track_record_size finished attempts (wake timeouts and agent-lost re-queues not counted) */
      record: {
        completed: number;
        /** @description Failed attempts (retried or final) */
        failed: number;
        /** @description Attempts that timed out (retried or final) */
        timed_out: number;
        /** @description completed / finished attempts in the window; null with none (scored as 1.0) */
        success_rate: number | null;
        /** @description Mean assignment-to-completion time of the completed attempts */
        avg_duration_ms: number | null;
      };
    };
    AgentList: {
      agents: components['schemas']['Agent'][];
    };
    /** @description The agent's assigned tasks, oldest assignment first, at most 100 (empty when the wait ran out) */
    AssignmentList: {
      tasks: components['schemas']['Task'][];
    };
    /** @description One attempt of a task (Wisely's job_attempts) */
    Attempt: {
      /** @description 1-based, in order (X-Dispatch-Attempt of a call) */
      attempt: number;
      /** @description Who performed it: an agent id, or dispatch:http for a call task */
      agent: string | null;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      started_at: string;
      finished_at: string | null;
      /** @description running while the attempt is in flight */
      outcome: 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'running';
      /** @description null while running */
      duration_ms: number | null;
      /** @description A call's (or an endpoint push's) HTTP status; null when no answer came */
      status_code?: number | null;
      /** @description Why it failed, at most 4 KiB (of an HTTP answer: its status and body) */
      error?: string;
      /** @description A streamed answer's events, one per line, at most 16 KiB */
      log?: string;
    };
    /** @description Oldest first */
    AttemptList: {
      attempts: components['schemas']['Attempt'][];
    };
    /** @description Fires at each time on the days matching every non-empty list (the Wordware form) */
    Calendar: {
      time: string[];
      /** @description 1 = Monday … 7 = Sunday (ISO 8601) */
      weekday?: number[];
      /** @description Day of the month 1..31 */
      day?: number[];
      /** @description 1..12 */
      month?: number[];
    };
    /** @description An HTTP request Dispatch performs for the task (CONTRACT §18.1, docs/calls.md): assignee dispatch:http, never an agent. Every attempt sends Authorization (the credential, else http_work.service_token), X-Idempotency-Key: <task id> (the same on every attempt), X-Dispatch-Task-Id, X-Dispatch-Attempt. 2xx → completed with the body (non-JSON: {status, body}); {"ok": false}, 408/425/429/5xx, a connection error → retried (Retry-After honoured); the timeout → timeout; other statuses → failed at once; text/event-stream and application/x-ndjson answers → a progress report per event, the last one the result. Refused at create: a path without http_work.base_url, an unknown credential, a reserved header, timeout_ms above the task timeout (400 validation_failed); a host resolving to a loopback, private or link-local address not in http_work.allowed_hosts (400 call_not_allowed) */
    Call: {
      /** @description An absolute http(s) URL, or a path joined to http_work.base_url */
      url: string;
      /** @description Default POST */
      method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      /** @description Extra request headers; Authorization, X-Idempotency-Key and X-Dispatch-* are Dispatch’s */
      headers?: {
        [key: string]: string;
      };
      /** @description A name in http_work.credentials: sent as Authorization: Bearer <secret> (never logged or returned) */
      credential?: string;
      /** @description JSON sent as the request body; default the task's context; none for GET */
      body?: unknown;
      /** @description Per attempt, 100..the task timeout_ms; default 15000 */
      timeout_ms?: number;
    };
    /** @description Optional; an empty or missing body completes with result null */
    CompleteTaskRequest: {
      /** @description Any JSON */
      result?: unknown;
    };
    /** @description Exactly one of cron/calendar/schedule and exactly one of task/workflow/flow. The Wordware dispatcher's event file is accepted as is: name, flow (a call task template) and schedule (a calendar) */
    CreateScheduleRequest: {
      /** @description Unique per requester */
      name: string;
      cron?: string | null;
      calendar?: components['schemas']['Calendar'] | null;
      /** @description IANA name; cron and calendar are wall-clock times there (default UTC) */
      timezone?: string;
      start_at?: string | null;
      end_at?: string | null;
      task?: components['schemas']['ScheduleTask'] | null;
      workflow?: components['schemas']['ScheduleWorkflow'] | null;
      /** @description skip: an occurrence is skipped while the previous one's task/run is not terminal (default) */
      overlap?: 'skip' | 'allow';
      /** @description Occurrences missed while no replica ran: latest (default) fires the most recent once, none drops them, all fires them (at most 100) */
      catch_up?: 'latest' | 'none' | 'all';
      /** @description Each created task must be assigned within this of its occurrence, else it ends timed_out */
      start_within_ms?: number | null;
      /** @description A paused schedule fires nothing (it still previews) */
      paused?: boolean;
      flow?: components['schemas']['WordwareFlow'];
      /** @description The Wordware form of calendar */
      schedule?: components['schemas']['Calendar'];
    };
    /** @description Create a task; everything else is set by Dispatch */
    CreateTaskRequest: {
      /** @description 1..500 characters, not blank */
      title: string;
      description?: string | null;
      owner?: string | null;
      scope?: string | null;
      /** @description Required capability tags (stored lower-case) */
      capabilities?: string[];
      /** @description Default 5; higher is more urgent */
      priority?: number;
      /** @description Free JSON object, at most 256 KiB serialized */
      context?: {
        [key: string]: unknown;
      };
      /** @description Per attempt; default assignment.default_timeout_ms */
      timeout_ms?: number;
      /** @description Default 3; 0 means never retry */
      max_retries?: number;
      /** @description Default null: no heartbeat timeout */
      heartbeat_timeout_ms?: number | null;
      /** @description How long the task may wait for its requester's answer once its assignee asks (input_required) before it ends timed_out (reason input); default 86400000 (24 h) */
      input_timeout_ms?: number;
      /** @description Must name an existing task */
      parent_id?: string | null;
      not_before?: string | null;
      /** @description Start deadline: a task not yet assigned at this instant ends timed_out (event timeout, reason not_started) */
      start_by?: string | null;
      /** @description Existing tasks to wait for (≤ 100, distinct): the task is waiting until all completed, cancelled if one fails, times out or is cancelled */
      depends_on?: string[];
      /** @description Default null: no flow control */
      flow_key?: string | null;
      /** @description Absolute http(s) URL the matching lifecycle events are POSTed to, signed (docs/callbacks.md). Needs webhooks.secret (else 400 callbacks_disabled); a host resolving to a loopback, link-local or private address → 400 callback_not_allowed unless listed in webhooks.allowed_hosts */
      callback_url?: string;
      /** @description Which events to POST (e.g. ["assigned","completed"], or ["*"]); default: only the event that ends the task. Needs callback_url */
      callback_events?: (
        | 'created'
        | 'assigned'
        | 'started'
        | 'progress'
        | 'completed'
        | 'failed'
        | 'retry'
        | 'timeout'
        | 'cancelled'
        | 'unmatched'
        | 'reassigned'
        | 'unblocked'
        | 'requeued'
        | 'input_required'
        | 'input_received'
        | 'updated'
        | '*'
      )[];
      call?: components['schemas']['Call'];
      /** @description Not assigned before this instant */
      start_at?: string | null;
      /** @description 1000..2^31; null: not a window */
      duration_ms?: number | null;
      /** @description Default false: a flag for the worker (Frequenz) */
      dry_run?: boolean;
      /** @description Any JSON (at most 64 KiB serialized): what the work acts on; null: none */
      target?: unknown;
    };
    /** @description One event to POST to the callback_url */
    Delivery: {
      /**
       * Format: uuid
       * @description UUID
       */
      event_id: string;
      /** @description The event's type without 'task.' */
      type: string;
      status: 'pending' | 'delivered' | 'failed';
      attempts: number;
      /** @description The endpoint's last HTTP status; null when it did not answer */
      last_status_code: number | null;
      last_error: string | null;
      /** @description When the next attempt is due; null once delivered or failed */
      next_attempt_at: string | null;
      delivered_at: string | null;
    };
    /** @description Oldest first */
    DeliveryList: {
      deliveries: components['schemas']['Delivery'][];
    };
    /** @description The Wisely seed's dispatch body: the run's context is {user_id, intent_id, payload} */
    DispatchRunRequest: {
      /** @description 1..100 chars of a-z 0-9 _ . - */
      workflow_key: string;
      /** @description Whom the run is for */
      user_id?: string;
      /** @description The intent it serves */
      intent_id?: string;
      /** @description Any JSON, at most 256 KiB serialized */
      payload?: unknown;
    };
    Drain: {
      id: string;
      drained: boolean;
    };
    /** @description Every error response (openapi.yaml, ErrorBody) */
    Error: {
      /** @description Human-readable message */
      error: string;
      /** @description Stable snake_case code */
      code:
        | 'missing_agent_id'
        | 'unauthorized'
        | 'admin_disabled'
        | 'validation_failed'
        | 'invalid_id'
        | 'not_found'
        | 'not_assignee'
        | 'forbidden'
        | 'invalid_transition'
        | 'idempotency_conflict'
        | 'payload_too_large'
        | 'unsupported_media_type'
        | 'rate_limited'
        | 'unavailable'
        | 'internal'
        | 'workflow_cycle'
        | 'agent_mismatch'
        | 'invalid_signature'
        | 'invalid_payload'
        | 'schedule_exists'
        | 'not_acceptable'
        | 'callbacks_disabled'
        | 'callback_not_allowed'
        | 'call_not_allowed';
      /** @description Extra facts: validation problems, {from,to} of a refused transition, retry_after_s */
      details?: unknown;
    };
    /** @description Lifecycle event envelope (docs/events.md) */
    Event: {
      /**
       * Format: uuid
       * @description UUID
       */
      id: string;
      type:
        | 'task.created'
        | 'task.assigned'
        | 'task.started'
        | 'task.progress'
        | 'task.completed'
        | 'task.failed'
        | 'task.retry'
        | 'task.timeout'
        | 'task.cancelled'
        | 'task.unmatched'
        | 'task.reassigned'
        | 'task.unblocked'
        | 'task.requeued'
        | 'task.input_required'
        | 'task.input_received'
        | 'task.updated';
      /** @enum {string} */
      source: 'dispatch';
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      timestamp: string;
      /**
       * Format: uuid
       * @description UUID
       */
      correlation_id: string;
      /**
       * Format: uuid
       * @description UUID
       */
      event_id?: string;
      /** @description = type (Chronicle's key) */
      event_type?: string;
      /**
       * Format: uuid
       * @description UUID
       */
      trace_id?: string;
      /** @description Chronicle's summary of the task */
      metadata?: {
        title: string;
        owner: string | null;
        agent: string | null;
        status: components['schemas']['TaskStatus'];
        error: string | null;
      };
      /** @description The task after the change, plus type-specific fields: assigned → agent, score, woke; failed → will_retry; retry/timeout → retry_count, max_retries, reason; unmatched → reason; reassigned → from_agent, reason */
      data: {
        task: components['schemas']['Task'];
      } & {
        [key: string]: unknown;
      };
    };
    /** @description Oldest first */
    EventList: {
      events: components['schemas']['Event'][];
    };
    /** @description Why this agent, why none: computed now from the live directory, read-only */
    Explanation: {
      /**
       * Format: uuid
       * @description UUID
       */
      task_id: string;
      status: components['schemas']['TaskStatus'];
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      evaluated_at: string;
      /** @description scope ∪ capabilities, lower-case */
      required_tags: string[];
      /** @description Every agent the directory knows, best first (the first eligible one is the decision) */
      candidates: {
        agent: string;
        eligible: boolean;
        /** @description 0 when not eligible */
        score: number;
        /** @description The agent state: ready, sleeping, starting, degraded, … */
        availability: string;
        active_tasks: number;
        max_concurrent: number;
        /** @description The track-record factor in the score: (1 − w) + w × success_rate, w = assignment.track_record_weight (1 when 0) */
        record_factor: number;
        /** @description Stable codes: missing_capability:<tag>, not_owner, ownership_unavailable, drained, at_limit, unavailable:<state>, avoided_after_wake_timeout (eligible, chosen only if nobody else can) */
        reasons: string[];
      }[];
      decision: {
        agent: string | null;
        /** @description null when an agent is named; else not_before, waiting_for_dependencies, a held flow key (flow_paused:<key>, flow_concurrency:<key>, flow_rate:<key>) or the unmatched reason (no_capable_agent, …) */
        reason: string | null;
      };
      /** @description The last assignment as recorded (assigned, running and finished tasks) */
      assigned?: {
        agent: string;
        score: number | null;
        woke: boolean | null;
        /**
         * Format: date-time
         * @description UTC ISO-8601
         */
        at: string;
      };
    };
    FailTaskRequest: {
      /** @description Why the attempt failed */
      error: string;
      /**
       * @description false fails the task without retry
       * @default true
       */
      retryable: boolean;
    };
    /** @description A flow key's state now */
    FlowKey: {
      key: string;
      /** @description The pattern whose limit applies (the longest match); null: none */
      limit_key: string | null;
      /** @description Tokens in the bucket now (fractional: refilled continuously); null: no rate */
      tokens: number | null;
      /** @description The burst; null: no rate */
      capacity: number | null;
      /** @description Tasks of this key assigned, running or input_required */
      active: number;
      /** @description null: no concurrency limit */
      concurrency: number | null;
      /** @description The key starts nothing until then; null: not paused */
      paused_until: string | null;
    };
    /** @description A limit; burst is shown with its default filled in */
    FlowLimit: {
      /** @description The pattern */
      key: string;
      /** @description Starts per per_ms per key (a token bucket; a token is taken at assignment). With per_ms */
      rate?: number;
      /** @description The window of rate, 1..86400000 ms. With rate */
      per_ms?: number;
      /** @description Bucket capacity: starts at once after a quiet spell; default rate. Only with rate */
      burst?: number;
      /** @description Tasks of one key assigned, running or input_required at once */
      concurrency?: number;
      /** @description config (flow.limits) or api (PUT); an api limit overrides config for its key */
      source: 'config' | 'api';
    };
    /** @description The limits in force, by pattern: config limits not overridden, and api limits */
    FlowLimitList: {
      limits: components['schemas']['FlowLimit'][];
    };
    /** @description rate with per_ms (and optionally burst), and/or concurrency; at least one of rate and concurrency */
    FlowLimitRequest: {
      /** @description Starts per per_ms per key (a token bucket; a token is taken at assignment). With per_ms */
      rate?: number;
      /** @description The window of rate, 1..86400000 ms. With rate */
      per_ms?: number;
      /** @description Bucket capacity: starts at once after a quiet spell; default rate. Only with rate */
      burst?: number;
      /** @description Tasks of one key assigned, running or input_required at once */
      concurrency?: number;
    };
    /** @description Pause a key until an instant (e.g. the reset time of a 429 from the model it calls) */
    FlowPauseRequest: {
      /**
       * Format: date-time
       * @description In the future, at most 24 h ahead
       */
      until: string;
    };
    IssueTokenRequest: {
      /** @description What the token is for (shown in the list) */
      label?: string;
    };
    IssuedToken: {
      /** Format: uuid */
      id: string;
      agent: string;
      /** @description The token: shown once, never again (only its SHA-256 is stored) */
      token: string;
      /** Format: date-time */
      created_at: string;
      label?: string;
    };
    PatchRunRequest: {
      /**
       * @description Cancel every task of the run that is not finished
       * @enum {string}
       */
      status: 'cancelled';
    };
    /** @description Any writable field; a changed timetable (cron, calendar, timezone, start_at, end_at) or a resume recomputes next_run_at from now */
    PatchScheduleRequest: {
      /** @description Unique per requester */
      name?: string;
      cron?: string | null;
      calendar?: components['schemas']['Calendar'] | null;
      /** @description IANA name; cron and calendar are wall-clock times there (default UTC) */
      timezone?: string;
      start_at?: string | null;
      end_at?: string | null;
      task?: components['schemas']['ScheduleTask'] | null;
      workflow?: components['schemas']['ScheduleWorkflow'] | null;
      /** @description skip: an occurrence is skipped while the previous one's task/run is not terminal (default) */
      overlap?: 'skip' | 'allow';
      /** @description Occurrences missed while no replica ran: latest (default) fires the most recent once, none drops them, all fires them (at most 100) */
      catch_up?: 'latest' | 'none' | 'all';
      /** @description Each created task must be assigned within this of its occurrence, else it ends timed_out */
      start_within_ms?: number | null;
      /** @description A paused schedule fires nothing (it still previews) */
      paused?: boolean;
    };
    /** @description At least one of status, context, priority, target, duration_ms. On an active window a change of context, target or duration_ms writes event updated (data.changed) */
    PatchTaskRequest: {
      /**
       * @description Cancel (from waiting, pending, assigned or running)
       * @enum {string}
       */
      status?: 'cancelled';
      /** @description Keys merged into the task context (shallow); only while not terminal */
      context?: {
        [key: string]: unknown;
      };
      /** @description Only while pending */
      priority?: number;
      /** @description Replaces the target (any JSON, at most 64 KiB); only while not terminal */
      target?: unknown;
      /** @description Replaces the window's duration; on an active window its until moves with it */
      duration_ms?: number;
    };
    Preview: {
      /** @description The next instants from now, UTC */
      occurrences: string[];
    };
    /** @description The last progress report */
    Progress: {
      message?: string;
      percent?: number;
      /** @description Free data of the report */
      data?: {
        [key: string]: unknown;
      };
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      at: string;
    };
    /** @description The first report moves assigned → running; an empty body is a heartbeat */
    ProgressRequest: {
      message?: string;
      percent?: number;
      /** @description Free data */
      data?: {
        [key: string]: unknown;
      };
    };
    /** @description A workflow run: one task per step; status derived from the tasks */
    Run: {
      /**
       * Format: uuid
       * @description UUID
       */
      id: string;
      /** @description 1..100 chars of a-z 0-9 _ . - */
      workflow_key: string;
      version: number;
      requester: string;
      /** @description Whom the run is for (the seed dispatch body, a trigger event) */
      user_id: string | null;
      /** @description The learning intent it serves (Wisely) */
      intent_id: string | null;
      /** @description The trigger event that started it */
      trigger_event_id: string | null;
      status: components['schemas']['RunStatus'];
      context: {
        [key: string]: unknown;
      };
      steps: {
        step_id: string;
        /**
         * Format: uuid
         * @description UUID
         */
        task_id: string;
        status: components['schemas']['TaskStatus'];
        depends_on: string[];
      }[];
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      created_at: string;
      completed_at: string | null;
    };
    /** @description Newest first */
    RunList: {
      runs: components['schemas']['Run'][];
      next_cursor: string | null;
    };
    RunStatus: 'running' | 'completed' | 'failed' | 'cancelled';
    /** @description A schedule */
    Schedule: {
      /**
       * Format: uuid
       * @description UUID
       */
      id: string;
      name: string;
      requester: string;
      cron: string | null;
      calendar: components['schemas']['Calendar'] | null;
      timezone: string;
      start_at: string | null;
      end_at: string | null;
      task: components['schemas']['ScheduleTask'] | null;
      workflow: components['schemas']['ScheduleWorkflow'] | null;
      /** @description skip: an occurrence is skipped while the previous one's task/run is not terminal (default) */
      overlap: 'skip' | 'allow';
      /** @description Occurrences missed while no replica ran: latest (default) fires the most recent once, none drops them, all fires them (at most 100) */
      catch_up: 'latest' | 'none' | 'all';
      start_within_ms: number | null;
      paused: boolean;
      next_run_at: string | null;
      last_run_at: string | null;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      created_at: string;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      updated_at: string;
    };
    /** @description Newest first */
    ScheduleList: {
      schedules: components['schemas']['Schedule'][];
      next_cursor: string | null;
    };
    ScheduleRun: {
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      occurrence: string;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      fired_at: string;
      outcome: 'fired' | 'skipped';
      reason?: string;
      /**
       * Format: uuid
       * @description UUID
       */
      task_id?: string;
      /**
       * Format: uuid
       * @description UUID
       */
      run_id?: string;
      /** @description true: POST trigger, outside the timetable */
      manual: boolean;
    };
    ScheduleRunList: {
      /** @description Newest first */
      runs: components['schemas']['ScheduleRun'][];
    };
    /** @description A create body (without depends_on, parent_id, not_before, start_by: see start_within_ms), validated at create time */
    ScheduleTask: {
      /** @description 1..500 characters, not blank */
      title: string;
      description?: string | null;
      owner?: string | null;
      scope?: string | null;
      /** @description Required capability tags (stored lower-case) */
      capabilities?: string[];
      /** @description Default 5; higher is more urgent */
      priority?: number;
      /** @description Free JSON object, at most 256 KiB serialized */
      context?: {
        [key: string]: unknown;
      };
      /** @description Per attempt; default assignment.default_timeout_ms */
      timeout_ms?: number;
      /** @description Default 3; 0 means never retry */
      max_retries?: number;
      /** @description Default null: no heartbeat timeout */
      heartbeat_timeout_ms?: number | null;
      /** @description How long the task may wait for its requester's answer once its assignee asks (input_required) before it ends timed_out (reason input); default 86400000 (24 h) */
      input_timeout_ms?: number;
      /** @description Default null: no flow control */
      flow_key?: string | null;
      /** @description Absolute http(s) URL the matching lifecycle events are POSTed to, signed (docs/callbacks.md). Needs webhooks.secret (else 400 callbacks_disabled); a host resolving to a loopback, link-local or private address → 400 callback_not_allowed unless listed in webhooks.allowed_hosts */
      callback_url?: string;
      /** @description Which events to POST (e.g. ["assigned","completed"], or ["*"]); default: only the event that ends the task. Needs callback_url */
      callback_events?: (
        | 'created'
        | 'assigned'
        | 'started'
        | 'progress'
        | 'completed'
        | 'failed'
        | 'retry'
        | 'timeout'
        | 'cancelled'
        | 'unmatched'
        | 'reassigned'
        | 'unblocked'
        | 'requeued'
        | 'input_required'
        | 'input_received'
        | 'updated'
        | '*'
      )[];
      call?: components['schemas']['Call'];
      /** @description Not assigned before this instant */
      start_at?: string | null;
      /** @description 1000..2^31; null: not a window */
      duration_ms?: number | null;
      /** @description Default false: a flag for the worker (Frequenz) */
      dry_run?: boolean;
      /** @description Any JSON (at most 64 KiB serialized): what the work acts on; null: none */
      target?: unknown;
    };
    /** @description Each occurrence starts a run of this workflow */
    ScheduleWorkflow: {
      /** @description 1..100 chars of a-z 0-9 _ . - */
      key: string;
      /** @description Merged into every step's task context */
      context?: {
        [key: string]: unknown;
      };
    };
    StartRunRequest: {
      /** @description Merged into every step's task context */
      context?: {
        [key: string]: unknown;
      };
    };
    /** @description Queue statistics */
    Stats: {
      /** @description Tasks waiting for their dependencies */
      waiting: number;
      /** @description Tasks waiting for an agent */
      pending: number;
      /** @description Tasks assigned, not yet started */
      assigned: number;
      /** @description Tasks reporting progress */
      running: number;
      /** @description Tasks waiting for their requester's answer (still holding their agent's slot) */
      input_required: number;
      /** @description Tasks completed */
      completed: number;
      /** @description Tasks failed for good */
      failed: number;
      /** @description Tasks whose last attempt timed out with no retries left */
      timed_out: number;
      /** @description Tasks cancelled */
      cancelled: number;
      /** @description assigned + running (MissionControl) */
      in_progress: number;
      /** @description Tasks of every status */
      total: number;
      /** @description Mean time from creation to completion over completed tasks (0 when none) */
      avg_completion_ms: number;
      /** @description How long the longest-waiting pending task has waited since it was created or last re-queued (0 when none) */
      oldest_pending_ms: number;
    };
    /** @description Tasks created and finished per minute over the last hour */
    StatsTimeline: {
      /** @description The last 60 minutes, oldest first; the last one is the current, partial minute */
      minutes: {
        /**
         * Format: date-time
         * @description Start of the minute, UTC
         */
        at: string;
        /** @description Tasks created in that minute */
        created: number;
        /** @description Tasks that reached a terminal status (completed, failed, timed_out, cancelled) in that minute */
        finished: number;
      }[];
    };
    /** @description Exactly one of task and call */
    Step: {
      /** @description 1..100 chars of A-Za-z0-9 _ . : -, unique in the workflow */
      id: string;
      task?: components['schemas']['StepTask'];
      /** @description A call step (exactly one of task and call): the object of §18.1, or the seed's string form — the url, with method, timeout_ms, headers, credential beside it. Its task is titled by the step id and sends {context: <run context>, upstream: {<step id>: <result>}} */
      call?: string | components['schemas']['Call'];
      /** @description Beside a string call: its method (default POST) */
      method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
      /** @description Beside a string call: its timeout per attempt */
      timeout_ms?: number;
      /** @description Beside a string call: its extra headers */
      headers?: {
        [key: string]: string;
      };
      /** @description Beside a string call: its credential name */
      credential?: string;
      /** @description Step ids of this workflow */
      depends_on?: string[];
    };
    /** @description The task each run creates for this step (a create body without depends_on, parent_id, not_before, start_by) */
    StepTask: {
      /** @description 1..500 characters, not blank */
      title: string;
      description?: string | null;
      owner?: string | null;
      scope?: string | null;
      /** @description Required capability tags (stored lower-case) */
      capabilities?: string[];
      /** @description Default 5; higher is more urgent */
      priority?: number;
      /** @description Free JSON object, at most 256 KiB serialized */
      context?: {
        [key: string]: unknown;
      };
      /** @description Per attempt; default assignment.default_timeout_ms */
      timeout_ms?: number;
      /** @description Default 3; 0 means never retry */
      max_retries?: number;
      /** @description Default null: no heartbeat timeout */
      heartbeat_timeout_ms?: number | null;
      /** @description How long the task may wait for its requester's answer once its assignee asks (input_required) before it ends timed_out (reason input); default 86400000 (24 h) */
      input_timeout_ms?: number;
      /** @description Default null: no flow control */
      flow_key?: string | null;
      /** @description Absolute http(s) URL the matching lifecycle events are POSTed to, signed (docs/callbacks.md). Needs webhooks.secret (else 400 callbacks_disabled); a host resolving to a loopback, link-local or private address → 400 callback_not_allowed unless listed in webhooks.allowed_hosts */
      callback_url?: string;
      /** @description Which events to POST (e.g. ["assigned","completed"], or ["*"]); default: only the event that ends the task. Needs callback_url */
      callback_events?: (
        | 'created'
        | 'assigned'
        | 'started'
        | 'progress'
        | 'completed'
        | 'failed'
        | 'retry'
        | 'timeout'
        | 'cancelled'
        | 'unmatched'
        | 'reassigned'
        | 'unblocked'
        | 'requeued'
        | 'input_required'
        | 'input_received'
        | 'updated'
        | '*'
      )[];
      call?: components['schemas']['Call'];
      /** @description Not assigned before this instant */
      start_at?: string | null;
      /** @description 1000..2^31; null: not a window */
      duration_ms?: number | null;
      /** @description Default false: a flag for the worker (Frequenz) */
      dry_run?: boolean;
      /** @description Any JSON (at most 64 KiB serialized): what the work acts on; null: none */
      target?: unknown;
    };
    /** @description A step as stored: exactly one of task and call (the object form) */
    StoredStep: {
      /** @description 1..100 chars of A-Za-z0-9 _ . : -, unique in the workflow */
      id: string;
      task?: components['schemas']['StepTask'];
      call?: components['schemas']['Call'];
      /** @description Step ids of this workflow */
      depends_on?: string[];
    };
    /** @description A task */
    Task: {
      /**
       * Format: uuid
       * @description UUID
       */
      id: string;
      title: string;
      description: string | null;
      /** @description The creator's X-Agent-ID */
      requester: string;
      owner: string | null;
      scope: string | null;
      /** @description Further required capability tags, lower-case */
      capabilities: string[];
      priority: number;
      status: components['schemas']['TaskStatus'];
      assignee: string | null;
      /** @description Free JSON from the requester; PATCH merges keys */
      context: {
        [key: string]: unknown;
      };
      progress: components['schemas']['Progress'] | null;
      /** @description What complete reported (any JSON), null until then */
      result: unknown;
      error: string | null;
      /** @description Per attempt, from assignment */
      timeout_ms: number;
      max_retries: number;
      retry_count: number;
      parent_id: string | null;
      not_before: string | null;
      /** @description Tasks this one waits for: waiting until every one completed */
      depends_on: string[];
      /** @description The workflow run this task is a step of */
      workflow_run_id: string | null;
      step_id: string | null;
      /** @description Start deadline: not assigned by then → timed_out ("not started by …") */
      start_by: string | null;
      /** @description The schedule whose occurrence created this task */
      schedule_id: string | null;
      /** @description That occurrence */
      scheduled_for: string | null;
      callback_url: string | null;
      /** @description Event types POSTed to callback_url ('*': all); null: only the event that ends the task */
      callback_events: string[] | null;
      /** @description No heartbeat (progress or POST /heartbeat) for this long while assigned or running → timeout, reason heartbeat; null: none */
      heartbeat_timeout_ms: number | null;
      /** @description How long an input_required task waits for its answer before it ends timed_out (reason input) */
      input_timeout_ms: number;
      /** @description The question asked in this attempt (input_required) and its answer; null when none */
      input: components['schemas']['TaskInput'] | null;
      /** @description The HTTP request Dispatch performs for a call task (assignee dispatch:http; method and timeout_ms filled in with their defaults); null for an agent's task */
      call: components['schemas']['Call'] | null;
      /** @description Not assigned before this instant */
      start_at: string | null;
      /** @description A window: how long it runs once assigned */
      duration_ms: number | null;
      /** @description A window's end once assigned: max(start_at, assigned_at) + duration_ms; then it ends by itself. Null otherwise */
      until: string | null;
      dry_run: boolean;
      /** @description Any JSON: what the work acts on; null: none */
      target: unknown;
      flow_key: string | null;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      created_at: string;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      updated_at: string;
      assigned_at: string | null;
      started_at: string | null;
      completed_at: string | null;
    };
    /** @description The last question of the attempt (input_required) and its answer */
    TaskInput: {
      /** @description What the assignee asked its requester */
      question: string;
      schema: {
        [key: string]: unknown;
      } | null;
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      asked_at: string;
      /** @description The answer (any JSON), null until given */
      answer: unknown;
      answered_at: string | null;
    };
    /** @description Newest first */
    TaskList: {
      tasks: components['schemas']['Task'][];
      /** @description Pass as cursor for the next page; null at the end */
      next_cursor: string | null;
    };
    /** @description Lifecycle status */
    TaskStatus: 'waiting' | 'pending' | 'assigned' | 'running' | 'input_required' | 'completed' | 'failed' | 'timed_out' | 'cancelled';
    Token: {
      /** Format: uuid */
      id: string;
      agent: string;
      label: string | null;
      /** Format: date-time */
      created_at: string;
      /** @description Recorded at most once a minute */
      last_used_at: string | null;
    };
    TokenList: {
      tokens: components['schemas']['Token'][];
    };
    /** @description What starts runs of the workflow besides a POST (CONTRACT §19.1) */
    Trigger: {
      /** @description cron: the cron starts runs; event: trigger events do; cron_or_event: both */
      type: 'cron' | 'event' | 'cron_or_event';
      /** @description Trigger event types that start a run (event, cron_or_event) */
      event_types?: string[];
      /** @description When runs start (cron, cron_or_event): a schedule named workflow:<key> owned by the workflow */
      cron?: string;
      /** @description IANA name the cron's wall-clock times are in; default UTC */
      timezone?: string;
    };
    /** @description A trigger event and the runs it started */
    TriggerEvent: {
      /**
       * Format: uuid
       * @description UUID
       */
      id: string;
      type: string;
      /** @description Who posted it (X-Agent-ID; over NATS the envelope requester or source, else dispatch:nats) */
      requester: string;
      user_id: string | null;
      intent_id: string | null;
      /** @description Any JSON; null when none */
      payload: unknown;
      runs: string[];
      /**
       * Format: date-time
       * @description UTC ISO-8601
       */
      created_at: string;
    };
    TriggerEventAccepted: {
      /**
       * Format: uuid
       * @description UUID
       */
      event_id: string;
      /** @description The runs it started, one per listening workflow (latest version); [] when none listens */
      runs: string[];
    };
    /** @description Newest first */
    TriggerEventList: {
      events: components['schemas']['TriggerEvent'][];
      next_cursor: string | null;
    };
    /** @description An event that starts one run of every workflow whose trigger lists its type */
    TriggerEventRequest: {
      /** @description 1..100 chars of A-Za-z0-9 _ - (the last token of swarm.trigger.<type>) */
      type: string;
      /** @description Whom the event is about */
      user_id?: string;
      /** @description The intent it concerns (Wisely) */
      intent_id?: string;
      /** @description Any JSON, at most 256 KiB serialized */
      payload?: unknown;
    };
    /** @description The Wordware form of task: the template {title: name, call: {url: api, method: POST, credential: "wordware", body: {inputs: input, version}}} */
    WordwareFlow: {
      /** @description The flow's inputs (any JSON), posted as {inputs, version} */
      input?: unknown;
      /** @description The flow version, e.g. "^1.0" */
      version?: string;
      /** @description The flow's run URL (POSTed with the wordware credential) */
      api: string;
    };
    /** @description A workflow definition (its latest version) */
    Workflow: {
      /** @description 1..100 chars of a-z 0-9 _ . - */
      key: string;
      /** @description Raised by every changed definition */
      version: number;
      description: string | null;
      trigger: components['schemas']['Trigger'] | null;
      steps: components['schemas']['StoredStep'][];
      /** @description Who stored this version */
      created_by: string;
      /**
       * Format: date-time
       * @description When the first version was stored
       */
      created_at: string;
      /**
       * Format: date-time
       * @description When this version was stored
       */
      updated_at: string;
    };
    /** @description A workflow definition, as JSON or YAML (Content-Type: application/yaml) */
    WorkflowDefinition: {
      /** @description If given, must equal the key in the path */
      key?: string;
      description?: string | null;
      trigger?: components['schemas']['Trigger'] | null;
      steps: components['schemas']['Step'][];
    };
    WorkflowList: {
      workflows: components['schemas']['Workflow'][];
    };
  };
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
  listTasks: {
    parameters: {
      query?: {
        /** @description Comma list of waiting, pending, assigned, running, input_required, completed, failed, timed_out, cancelled */
        status?: string;
        requester?: string;
        assignee?: string;
        scope?: string;
        owner?: string;
        /** @description UUID */
        workflow_run_id?: string;
        /** @description UUID */
        schedule_id?: string;
        limit?: number;
        /** @description next_cursor of the previous page (opaque) */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of tasks */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TaskList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createTask: {
    parameters: {
      query?: never;
      header?: {
        /** @description Same key + same requester + same body within 24 h returns the original task (200); a different body → 409 idempotency_conflict */
        'idempotency-key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    /** @description Create a task; everything else is set by Dispatch */
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateTaskRequest'];
      };
    };
    responses: {
      /** @description Idempotent replay: the task created by the first request with this key */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          /** @description Path of the new task */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getTask: {
    parameters: {
      query?: {
        /** @description Seconds to hold the request (0..60, default 0 = answer at once) */
        wait?: number;
      };
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The task */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  patchTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    /** @description At least one of status, context, priority, target, duration_ms. On an active window a change of context, target or duration_ms writes event updated (data.changed) */
    requestBody: {
      content: {
        'application/json': components['schemas']['PatchTaskRequest'];
      };
    };
    responses: {
      /** @description The task after the change */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  completeTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    /** @description Optional; an empty or missing body completes with result null */
    requestBody: {
      content: {
        'application/json': components['schemas']['CompleteTaskRequest'];
      };
    };
    responses: {
      /** @description The completed task */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  failTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['FailTaskRequest'];
      };
    };
    responses: {
      /** @description The task after the retry decision */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  reportProgress: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    /** @description The first report moves assigned → running; an empty body is a heartbeat */
    requestBody: {
      content: {
        'application/json': components['schemas']['ProgressRequest'];
      };
    };
    responses: {
      /** @description The task with its progress */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  requestInput: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    /** @description The assignee of a running task asks its requester */
    requestBody: {
      content: {
        'application/json': {
          /** @description What the requester should answer */
          question: string;
          /** @description A JSON Schema the answer should follow (advisory, shown to the requester) */
          schema?: {
            [key: string]: unknown;
          };
        };
      };
    };
    responses: {
      /** @description The task, waiting for input */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  answerTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    /** @description The answer to the question of an input_required task */
    requestBody: {
      content: {
        'application/json': {
          /** @description Any JSON (at most 256 KiB serialized) */
          answer: unknown;
        };
      };
    };
    responses: {
      /** @description The task, running again */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  heartbeatTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Heartbeat recorded */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  retryTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The task after the retry */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  explainTask: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The explanation */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Explanation'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  taskEvents: {
    parameters: {
      query?: never;
      header?: {
        /** @description text/event-stream for the SSE stream */
        accept?: string;
        /** @description Resume after this event id (SSE) */
        'last-event-id'?: string;
      };
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Events in the envelope of docs/events.md */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['EventList'];
          'text/event-stream': string;
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getWorkflow: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description 1..100 chars of a-z 0-9 _ . - */
        key: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The workflow */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Workflow'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  putWorkflow: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description 1..100 chars of a-z 0-9 _ . - */
        key: string;
      };
      cookie?: never;
    };
    /** @description A workflow definition, as JSON or YAML (Content-Type: application/yaml) */
    requestBody: {
      content: {
        'application/json': components['schemas']['WorkflowDefinition'];
      };
    };
    responses: {
      /** @description Stored as a new version, or unchanged */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Workflow'];
        };
      };
      /** @description Created (version 1) */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Workflow'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listWorkflows: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description By key */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['WorkflowList'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  startRun: {
    parameters: {
      query?: never;
      header?: {
        /** @description Same key + same requester + same body within 24 h returns the original task (200); a different body → 409 idempotency_conflict */
        'idempotency-key'?: string;
      };
      path: {
        /** @description 1..100 chars of a-z 0-9 _ . - */
        key: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['StartRunRequest'];
      };
    };
    responses: {
      /** @description Idempotent replay: the run created by the first request with this key */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          /** @description Path of the new run */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listRuns: {
    parameters: {
      query?: {
        /** @description 1..100 chars of a-z 0-9 _ . - */
        workflow_key?: string;
        /** @description Comma list of running, completed, failed, cancelled */
        status?: string;
        requester?: string;
        limit?: number;
        /** @description next_cursor of the previous page (opaque) */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of runs */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['RunList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  dispatchRun: {
    parameters: {
      query?: never;
      header?: {
        /** @description Same key + same requester + same body within 24 h returns the original task (200); a different body → 409 idempotency_conflict */
        'idempotency-key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    /** @description The Wisely seed's dispatch body: the run's context is {user_id, intent_id, payload} */
    requestBody: {
      content: {
        'application/json': components['schemas']['DispatchRunRequest'];
      };
    };
    responses: {
      /** @description Idempotent replay: the run created by the first request with this key */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description Created */
      201: {
        headers: {
          /** @description Path of the new run */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getRun: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The run */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  cancelRun: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['PatchRunRequest'];
      };
    };
    responses: {
      /** @description The run after the change */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Run'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listSchedules: {
    parameters: {
      query?: {
        requester?: string;
        paused?: 'true' | 'false';
        limit?: number;
        /** @description next_cursor of the previous page (opaque) */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of schedules */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ScheduleList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  createSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** @description Exactly one of cron/calendar/schedule and exactly one of task/workflow/flow. The Wordware dispatcher's event file is accepted as is: name, flow (a call task template) and schedule (a calendar) */
    requestBody: {
      content: {
        'application/json': components['schemas']['CreateScheduleRequest'];
      };
    };
    responses: {
      /** @description Created */
      201: {
        headers: {
          /** @description Path of the new schedule */
          Location?: string;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Schedule'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The schedule */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Schedule'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deleted */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  patchSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    /** @description Any writable field; a changed timetable (cron, calendar, timezone, start_at, end_at) or a resume recomputes next_run_at from now */
    requestBody: {
      content: {
        'application/json': components['schemas']['PatchScheduleRequest'];
      };
    };
    responses: {
      /** @description The schedule after the change */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Schedule'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  previewSchedule: {
    parameters: {
      query?: {
        count?: number;
      };
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Occurrences, earliest first */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Preview'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  scheduleRuns: {
    parameters: {
      query?: {
        limit?: number;
      };
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The history */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['ScheduleRunList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  triggerSchedule: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': Record<string, never>;
      };
    };
    responses: {
      /** @description The task (or run) created */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Task'] | components['schemas']['Run'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listTriggerEvents: {
    parameters: {
      query?: {
        /** @description 1..100 chars of A-Za-z0-9 _ - (the last token of swarm.trigger.<type>) */
        type?: string;
        limit?: number;
        /** @description next_cursor of the previous page (opaque) */
        cursor?: string;
      };
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description A page of trigger events */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TriggerEventList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  postTriggerEvent: {
    parameters: {
      query?: never;
      header?: {
        /** @description Same key + same requester + same body within 24 h returns the original task (200); a different body → 409 idempotency_conflict */
        'idempotency-key'?: string;
      };
      path?: never;
      cookie?: never;
    };
    /** @description An event that starts one run of every workflow whose trigger lists its type */
    requestBody: {
      content: {
        'application/json': components['schemas']['TriggerEventRequest'];
      };
    };
    responses: {
      /** @description Stored; its runs started */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TriggerEventAccepted'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_transition (details.from/details.to), idempotency_conflict, or schedule_exists */
      409: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listAgents: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The agents */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AgentList'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  drainAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The drain flag as stored */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  undrainAgent: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The drain flag as stored */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Drain'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listAgentTokens: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Tokens */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['TokenList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  issueAgentToken: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id */
        id: string;
      };
      cookie?: never;
    };
    requestBody: {
      content: {
        'application/json': components['schemas']['IssueTokenRequest'];
      };
    };
    responses: {
      /** @description Issued */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['IssuedToken'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  revokeAgentToken: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Agent id */
        id: string;
        /** @description Token id */
        token_id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Revoked */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getStats: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Queue statistics */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Stats'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getStatsTimeline: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Per-minute counts */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['StatsTimeline'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  putFlowLimit: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The pattern: an exact flow key, or a prefix ending in * (user:*; * alone matches every key) */
        key: string;
      };
      cookie?: never;
    };
    /** @description rate with per_ms (and optionally burst), and/or concurrency; at least one of rate and concurrency */
    requestBody: {
      content: {
        'application/json': components['schemas']['FlowLimitRequest'];
      };
    };
    responses: {
      /** @description The limit as stored (source api) */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['FlowLimit'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  deleteFlowLimit: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description The pattern: an exact flow key, or a prefix ending in * (user:*; * alone matches every key) */
        key: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Removed */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  listFlowLimits: {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The limits */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['FlowLimitList'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  getFlowKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A flow key (exact: a pause applies to this key only) */
        key: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The key now */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['FlowKey'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  pauseFlowKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A flow key (exact: a pause applies to this key only) */
        key: string;
      };
      cookie?: never;
    };
    /** @description Pause a key until an instant (e.g. the reset time of a 429 from the model it calls) */
    requestBody: {
      content: {
        'application/json': components['schemas']['FlowPauseRequest'];
      };
    };
    responses: {
      /** @description The key, paused */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['FlowKey'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unsupported_media_type: the body must be application/json (or application/yaml for a workflow definition) */
      415: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  unpauseFlowKey: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A flow key (exact: a pause applies to this key only) */
        key: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Not paused */
      204: {
        headers: {
          [name: string]: unknown;
        };
        content?: never;
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  receiveHook: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description A source configured under intake: (unknown → 404) */
        source: string;
      };
      cookie?: never;
    };
    /** @description The payload: a JSON object (any Content-Type), read as raw bytes for the signature check, then parsed. Placeholders {{a.b.0.c}} of the source template are filled from it; the task (or run) gets it whole as context.payload. */
    requestBody: {
      content: {
        'application/json': {
          [key: string]: unknown;
        };
      };
    };
    responses: {
      /** @description A repeated delivery id: the task/run the first delivery created, nothing new */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            | {
                task: components['schemas']['Task'];
              }
            | {
                run: components['schemas']['Run'];
              }
            | {
                /**
                 * @description The first task/run of this delivery id is no longer stored (retention)
                 * @enum {boolean}
                 */
                duplicate: true;
              };
        };
      };
      /** @description Created: the task of a task source, or the run of a workflow source */
      201: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json':
            | {
                task: components['schemas']['Task'];
              }
            | {
                run: components['schemas']['Run'];
              };
        };
      };
      /** @description The event type (event_header) is not in the source’s events: acknowledged, nothing stored */
      202: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': {
            /** @enum {boolean} */
            ignored: true;
          };
        };
      };
      /** @description validation_failed: the body is not a JSON object, or the configured delivery header is missing */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_signature: the signature header is missing, malformed or does not match the raw body */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found: no such source (or its workflow is not stored) */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description payload_too_large */
      413: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description invalid_payload: the payload fills the template into a task (or run context) that POST /api/v1/tasks would refuse; details lists the problems */
      422: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-client-address token bucket of the hook route is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  pollAssignments: {
    parameters: {
      query?: {
        /** @description Seconds to hold the request (0..60, default 0 = answer at once) */
        wait?: number;
      };
      header?: never;
      path: {
        /** @description Agent id */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The agent's assigned tasks */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AssignmentList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_assignee (worker reports) or forbidden (cancel/patch by someone else) */
      403: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  eventFirehose: {
    parameters: {
      query?: {
        /** @description Comma list of envelope types (task.completed, run.failed, …); a bare task type (completed) means task.<type> */
        type?: string;
        requester?: string;
        assignee?: string;
      };
      header?: {
        /** @description text/event-stream for the SSE stream */
        accept?: string;
        /** @description Resume after this event id (SSE) */
        'last-event-id'?: string;
      };
      path?: never;
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description The event stream */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'text/event-stream': string;
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_acceptable: this route answers only text/event-stream (send Accept: text/event-stream) */
      406: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  taskDeliveries: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Deliveries, oldest first */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['DeliveryList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
  taskAttempts: {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description UUID */
        id: string;
      };
      cookie?: never;
    };
    requestBody?: never;
    responses: {
      /** @description Attempts, oldest first */
      200: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['AttemptList'];
        };
      };
      /** @description validation_failed (body or query), invalid_id (path), or workflow_cycle (details.cycle) */
      400: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description missing_agent_id; on admin routes also unauthorized or admin_disabled */
      401: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description not_found */
      404: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description rate_limited: the per-agent token bucket is empty; see Retry-After */
      429: {
        headers: {
          /** @description Seconds until a request will be accepted again */
          'Retry-After'?: number;
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description internal */
      500: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
      /** @description unavailable */
      503: {
        headers: {
          [name: string]: unknown;
        };
        content: {
          'application/json': components['schemas']['Error'];
        };
      };
    };
  };
}
