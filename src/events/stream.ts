// CONTRACT §6 stream handling: publish into whichever JetStream stream already captures the task
// event subjects (e.g. Warren's TASK_EVENTS on `swarm.task.>`); if none does, create
// DISPATCH_EVENTS. Ours binds `swarm.task.*.*` — exactly `swarm.task.<task_id>.<type>` — and not
// `swarm.task.>`, which would also store `swarm.task.request` and answer every request with a
// JetStream ack before Dispatch could reply.
import { jetstreamManager, StorageType, RetentionPolicy, DiscardPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';

/** The subjects Dispatch publishes: swarm.task.<task_id>.<type>. */
export const TASK_SUBJECTS = 'swarm.task.*.*';
export const DEFAULT_STREAM = 'DISPATCH_EVENTS';

/**
 * Dedup window for Nats-Msg-Id. It must cover the longest gap between a publish the server stored
 * and its retry: a relay that dies after the ack but before marking the row, or an ack lost in a
 * NATS restart, is retried within seconds by the next leader / after reconnect. Ten minutes leaves a
 * wide margin (the server default is two).
 */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;
const NS_PER_MS = 1_000_000;

/** Does a stream subject filter capture every subject matched by `want`? (`>` and `*` aware.) */
export function subjectCaptures(filter: string, want: string): boolean {
  const f = filter.split('.');
  const w = want.split('.');
  for (let i = 0; i < f.length; i++) {
    const ft = f[i]!;
    if (ft === '>') return true;
    const wt = w[i];
    if (wt === undefined) return false;
    if (wt === '>') return false; // the filter is narrower than an open tail
    if (ft === '*') continue;
    if (wt === '*' || ft !== wt) return false;
  }
  return f.length === w.length;
}

/**
 * Find or create the stream for task events; returns its name. Safe to call on every
 * (re)connect and from several replicas at once (a lost create race re-reads).
 */
export async function ensureTaskStream(nc: NatsConnection, log: Logger, retentionHours: number): Promise<string> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const found = await findCapturing(jsm);
  if (found) return found;
  try {
    await jsm.streams.add({
      name: DEFAULT_STREAM,
      subjects: [TASK_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
      max_age: retentionHours * 3600_000 * NS_PER_MS,
    });
    log.info({ stream: DEFAULT_STREAM }, 'created JetStream stream for task events');
    return DEFAULT_STREAM;
  } catch (err) {
    // Another replica created it (or an overlapping stream) in the meantime.
    const again = await findCapturing(jsm);
    if (again) return again;
    throw err;
  }
}

async function findCapturing(jsm: Awaited<ReturnType<typeof jetstreamManager>>): Promise<string | undefined> {
  const overlapping: string[] = [];
  for await (const name of jsm.streams.names(TASK_SUBJECTS)) overlapping.push(name);
  for (const name of overlapping) {
    const info = await jsm.streams.info(name);
    if ((info.config.subjects ?? []).some((s) => subjectCaptures(s, TASK_SUBJECTS))) return name;
  }
  // A stream that overlaps without capturing everything would make creating ours fail; publish
  // into it anyway (its owner chose that layout) rather than not at all.
  return overlapping[0];
}
