// Errors with stable codes (CONTRACT §2). Anything thrown that is not a DispatchError is answered
// as 500 `internal` without its message.
export type ErrorCode =
  | 'missing_agent_id' | 'unauthorized' | 'admin_disabled' | 'validation_failed' | 'invalid_id'
  | 'not_found' | 'not_assignee' | 'forbidden' | 'invalid_transition' | 'idempotency_conflict'
  | 'payload_too_large' | 'unsupported_media_type' | 'rate_limited' | 'unavailable' | 'internal';

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
  constructor(readonly taskId: string, readonly from: string, readonly to: string) {
    super('invalid_transition', 409, `task ${taskId} cannot go from ${from} to ${to}`, { from, to });
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

export class UnavailableError extends DispatchError {
  constructor(message: string, options?: ErrorOptions) {
    super('unavailable', 503, message, undefined, options);
  }
}
