// Stream handling (docs/events.md): publish into whichever JetStream stream already captures the
// event subjects (e.g. Warren's TASK_EVENTS on `swarm.task.>`); if none does, create
// DISPATCH_EVENTS. Ours binds `swarm.task.*.*` — exactly `swarm.task.<task_id>.<type>` — and not
// `swarm.task.>`, which would also store `swarm.task.request` and answer every request with a
// JetStream ack before Dispatch could reply.
import { jetstreamManager, StorageType, RetentionPolicy, DiscardPolicy } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';

/** The subjects Dispatch publishes: swarm.task.<task_id>.<type>, and swarm.run.<run_id>.<type> for workflow runs. */
export const TASK_SUBJECTS = 'swarm.task.*.*';
export const RUN_SUBJECTS = 'swarm.run.*.*';
const SUBJECTS = [TASK_SUBJECTS, RUN_SUBJECTS];
export const DEFAULT_STREAM = 'DISPATCH_EVENTS';
/** swarm-dlq entries (dlq.task.<reason>): into whichever stream captures `dlq.>`, else DISPATCH_DLQ. */
export const DLQ_SUBJECTS = 'dlq.>';
export const DLQ_STREAM = 'DISPATCH_DLQ';

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
 * Find or create the streams for task and run events; returns their names. Safe to call on every
 * (re)connect and from several replicas at once (a lost create race re-reads). Subjects no
 * stream captures go into DISPATCH_EVENTS: created with them, or its subjects extended.
 *
 * `replicas` (hermes.stream_replicas) is the replica count of the streams created here. A stream
 * that exists is left as it is, with a warning (once per process) when its count differs:
 * changing it is the operator's decision (`nats stream edit --replicas`), and a replica that
 * shrank a stream at start could take the redundancy away from another one's configuration.
 */
export async function ensureTaskStream(nc: NatsConnection, log: Logger, retentionHours: number, replicas = 1): Promise<string> {
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  const dlq = await ensureDlqStream(jsm, log, retentionHours, replicas);
  return `${await ensureEventStreams(jsm, log, retentionHours, replicas)},${dlq}`;
}

type Jsm = Awaited<ReturnType<typeof jetstreamManager>>;

/** Mismatches already warned about (stream:have:want), so a reconnect does not repeat them. */
const replicaWarnings = new Set<string>();

async function checkReplicas(jsm: Jsm, log: Logger, name: string, replicas: number): Promise<void> {
  const have = (await jsm.streams.info(name)).config.num_replicas || 1;
  const key = `${name}:${have}:${replicas}`;
  if (have === replicas || replicaWarnings.has(key)) return;
  replicaWarnings.add(key);
  log.warn(
    { stream: name, replicas: have, stream_replicas: replicas },
    'the JetStream stream exists with another replica count than hermes.stream_replicas; left as it is',
  );
}

async function ensureDlqStream(jsm: Jsm, log: Logger, retentionHours: number, replicas: number): Promise<string> {
  const found = await findCapturing(jsm, DLQ_SUBJECTS);
  if (found) {
    await checkReplicas(jsm, log, found, replicas);
    return found;
  }
  try {
    await jsm.streams.add({
      name: DLQ_STREAM,
      subjects: [DLQ_SUBJECTS],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
      max_age: retentionHours * 3600_000 * NS_PER_MS,
      num_replicas: replicas,
    });
    log.info({ stream: DLQ_STREAM, subjects: [DLQ_SUBJECTS], replicas }, 'created JetStream stream for dead-letter entries');
  } catch (err) {
    if (!(await findCapturing(jsm, DLQ_SUBJECTS))) throw err; // another replica created it
  }
  return DLQ_STREAM;
}

async function ensureEventStreams(jsm: Jsm, log: Logger, retentionHours: number, replicas: number): Promise<string> {
  const names: string[] = [];
  const missing: string[] = [];
  for (const subject of SUBJECTS) {
    const found = await findCapturing(jsm, subject);
    if (found) names.push(found);
    else missing.push(subject);
  }
  for (const name of new Set(names)) await checkReplicas(jsm, log, name, replicas);
  if (missing.length === 0) return [...new Set(names)].join(',');
  const ours = await jsm.streams.info(DEFAULT_STREAM).catch(() => undefined);
  try {
    if (ours) {
      await jsm.streams.update(DEFAULT_STREAM, { ...ours.config, subjects: [...new Set([...(ours.config.subjects ?? []), ...missing])] });
      log.info({ stream: DEFAULT_STREAM, added: missing }, 'extended the JetStream stream to capture more event subjects');
    } else {
      await jsm.streams.add({
        name: DEFAULT_STREAM,
        subjects: missing,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        duplicate_window: DUPLICATE_WINDOW_MS * NS_PER_MS,
        max_age: retentionHours * 3600_000 * NS_PER_MS,
        num_replicas: replicas,
      });
      log.info({ stream: DEFAULT_STREAM, subjects: missing, replicas }, 'created JetStream stream for task events');
    }
  } catch (err) {
    // Another replica created or extended it in the meantime.
    for (const subject of missing) if (!(await findCapturing(jsm, subject))) throw err;
  }
  return [...new Set([...names, DEFAULT_STREAM])].join(',');
}

export async function findCapturing(jsm: Jsm, subject: string): Promise<string | undefined> {
  const overlapping: string[] = [];
  for await (const name of jsm.streams.names(subject)) overlapping.push(name);
  for (const name of overlapping) {
    const info = await jsm.streams.info(name);
    if ((info.config.subjects ?? []).some((s) => subjectCaptures(s, subject))) return name;
  }
  // A stream that overlaps without capturing everything would make creating ours fail; publish
  // into it anyway (its owner chose that layout) rather than not at all.
  return overlapping[0];
}
