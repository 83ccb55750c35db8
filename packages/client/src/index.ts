// @dispatch/client: the typed client, the worker and their errors (CONTRACT §22, docs/clients.md).
export { createClient, unwrap, bearerFor } from './client.js';
export type {
  ClientOptions,
  DispatchClient,
  Task,
  TaskStatus,
  TaskEvent,
  Run,
  Workflow,
  Schedule,
  Agent,
  Stats,
  ErrorBody,
  CreateTaskRequest,
} from './client.js';
export type { components, operations, paths } from './client.js';
export { createWorker } from './worker.js';
export type { Handler, TaskContext, Worker, WorkerEvent, WorkerOptions } from './worker.js';
export { DispatchApiError, NonRetryableError } from './errors.js';
export { readEventStream, type SseFrame } from './sse.js';
