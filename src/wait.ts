// Waiting with a bound, for callers that must not hang on something that may never settle (a
// neighbour's refresh, a batch stuck on an unreachable database during shutdown). Defined with
// the loop shell, which bounds every component's stop() with it.
export { STOP_WAIT_MS, waitAtMost } from './loop.js';
