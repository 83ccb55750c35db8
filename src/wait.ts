// Waiting with a bound, for callers that must not hang on something that may never settle (a
// neighbour's refresh, a batch stuck on an unreachable database during shutdown).

/** How long a component's stop() waits for work in flight before it lets go. */
export const STOP_WAIT_MS = 2000;

/** Wait for `p` (settled either way) or `ms`, whichever comes first. Never throws. */
export async function waitAtMost(p: Promise<unknown> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p?.catch(() => {}), new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}
