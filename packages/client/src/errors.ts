// Errors of the client and the worker. An API refusal keeps the contract's {error, code, details}
// (CONTRACT §2) and the HTTP status; a handler throws NonRetryableError to fail its task for good.

/** The API answered with an error body (or a non-2xx without one). */
export class DispatchApiError extends Error {
  override readonly name = 'DispatchApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** A 5xx or 429: worth trying again; anything else is the caller's problem. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** Thrown by a worker's handler: the task fails with `retryable: false` (no retry is spent on it). */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
}

/** The error of a failed response: the body's {error, code, details} when it has them. */
export function apiError(status: number, body: unknown): DispatchApiError {
  if (body && typeof body === 'object' && 'code' in body && 'error' in body) {
    const b = body as { error: unknown; code: unknown; details?: unknown };
    return new DispatchApiError(status, String(b.code), String(b.error), b.details);
  }
  return new DispatchApiError(status, status >= 500 ? 'internal' : 'http_error', `HTTP ${status}`);
}
