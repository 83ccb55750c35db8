// Errors with stable codes (openapi.yaml, ErrorBody). Anything thrown that is not a DispatchError is answered
// as 500 `internal` without its message.
export const ERROR_CODES = [
  'missing_agent_id',
  'unauthorized',
  'admin_disabled',
  'validation_failed',
  'invalid_id',
  'not_found',
  'not_assignee',
  'forbidden',
  'invalid_transition',
  'idempotency_conflict',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'internal',
  'workflow_cycle',
  'agent_mismatch',
  'invalid_signature',
  'invalid_payload',
  'schedule_exists',
  'not_acceptable',
  'callbacks_disabled',
  'callback_not_allowed',
  'call_not_allowed',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DispatchError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DispatchError';
  }
}

export class ValidationError extends DispatchError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', 400, message, details);
  }
}

export class NotFoundError extends DispatchError {
  constructor(what = 'resource') {
    super('not_found', 404, `${what} not found`);
  }
}

export class InvalidTransitionError extends DispatchError {
  constructor(
    readonly taskId: string,
    readonly from: string,
    readonly to: string,
    message?: string,
  ) {
    super('invalid_transition', 409, message ?? `task ${taskId} cannot go from ${from} to ${to}`, { from, to });
  }
}

export class NotAssigneeError extends DispatchError {
  constructor(taskId: string) {
    super('not_assignee', 403, `only the task's assignee may report on task ${taskId}`);
  }
}

export class ForbiddenError extends DispatchError {
  constructor(message: string) {
    super('forbidden', 403, message);
  }
}

/**
 * A folder of definitions applied at start (workflows.dir, schedules.dir) holds a file that does
 * not parse or validate: an operator's problem, so the start stops with exit code 2 (main.ts),
 * naming every file and every problem.
 */
export class DefinitionFilesError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: string[],
    what: string,
  ) {
    super(`${what} ${dir} has invalid files:\n  - ${problems.join('\n  - ')}`);
    this.name = 'DefinitionFilesError';
  }
}
