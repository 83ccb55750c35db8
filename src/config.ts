// Configuration: one convict schema, loaded from config.yaml (path from DISPATCH_CONFIG) with
// environment overrides, validated once at start with every problem listed (README, Configuration).
import { existsSync, readFileSync } from 'node:fs';
import convict from 'convict';
import * as yaml from 'js-yaml';
import { AGENT_ID_RULE, isAgentId, isObject } from './core/ids.js';
import { WORDWARE_CREDENTIAL } from './core/call-spec.js';
import { intakeProblems, type IntakeSource } from './config-intake.js';
import { FLOW_BOUNDS, FLOW_KEY_PATTERN, FLOW_KEY_RULE, limitProblems, type FlowLimitSpec } from './core/flow.js';

export type { IntakeSource } from './config-intake.js';

export const AGENT_STATES = ['ready', 'sleeping', 'starting', 'degraded', 'stopped', 'unknown'] as const;

export interface RosterAgent {
  id: string;
  name: string;
  capabilities: string[];
  owner?: string;
  state: (typeof AGENT_STATES)[number];
  /** An endpoint agent (§18.2): each task assigned to it is POSTed to `url`. */
  endpoint?: AgentEndpoint;
}

/** Where an endpoint agent takes its tasks (§18.2, docs/calls.md). */
export interface AgentEndpoint {
  url: string;
  /** A name in http_work.credentials (else http_work.service_token is sent). */
  credential?: string;
}

function validateRoster(value: unknown): void {
  if (!Array.isArray(value)) throw new Error('must be a list of agents');
  const seen = new Set<string>();
  value.forEach((a: unknown, i) => {
    const where = `agents[${i}]`;
    if (!isObject(a)) throw new Error(`${where} must be a mapping`);
    const agent = a;
    const unknownKeys = Object.keys(agent).filter((k) => !['id', 'name', 'capabilities', 'owner', 'state', 'endpoint'].includes(k));
    if (unknownKeys.length) throw new Error(`${where} has unknown key(s) ${unknownKeys.join(', ')}`);
    if (!isAgentId(agent.id)) throw new Error(`${where}.id must be ${AGENT_ID_RULE}`);
    if (seen.has(agent.id)) throw new Error(`${where}.id "${agent.id}" is listed twice`);
    seen.add(agent.id);
    if (agent.name !== undefined && typeof agent.name !== 'string') throw new Error(`${where}.name must be a string`);
    if (agent.capabilities !== undefined && (!Array.isArray(agent.capabilities) || agent.capabilities.some((c) => typeof c !== 'string'))) {
      throw new Error(`${where}.capabilities must be a list of strings`);
    }
    if (agent.owner !== undefined && typeof agent.owner !== 'string') throw new Error(`${where}.owner must be a string`);
    if (agent.state !== undefined && !AGENT_STATES.includes(agent.state as never)) {
      throw new Error(`${where}.state must be one of ${AGENT_STATES.join(', ')}`);
    }
    if (agent.endpoint !== undefined) {
      const e = agent.endpoint;
      if (!isObject(e) || Object.keys(e).some((k) => k !== 'url' && k !== 'credential')) throw new Error(`${where}.endpoint must be {url, credential?}`);
      if (typeof e.url !== 'string' || !/^https?:\/\//i.test(e.url)) throw new Error(`${where}.endpoint.url must be an absolute http(s) URL`);
      try {
        new URL(e.url);
      } catch {
        throw new Error(`${where}.endpoint.url must be an absolute http(s) URL`);
      }
      if (e.credential !== undefined && typeof e.credential !== 'string') throw new Error(`${where}.endpoint.credential must be a string`);
    }
  });
}

/** A configured flow limit (§20): a pattern and its rate and/or concurrency. */
export interface FlowLimitConfig extends FlowLimitSpec {
  key: string;
}

const FLOW_LIMIT_FIELDS: Record<keyof FlowLimitSpec, number> = {
  rate: FLOW_BOUNDS.rateMax,
  per_ms: FLOW_BOUNDS.perMsMax,
  burst: FLOW_BOUNDS.burstMax,
  concurrency: FLOW_BOUNDS.concurrencyMax,
};

/** flow.limits: every problem of every entry, in one message (convict lists it with the rest). */
function validateFlowLimits(value: unknown): void {
  if (!Array.isArray(value)) throw new Error('must be a list of {key, rate?, per_ms?, burst?, concurrency?}');
  const problems: string[] = [];
  const seen = new Set<string>();
  value.forEach((l: unknown, i) => {
    const where = `flow.limits[${i}]`;
    if (!isObject(l)) return problems.push(`${where} must be a mapping`);
    const unknownKeys = Object.keys(l).filter((k) => k !== 'key' && !(k in FLOW_LIMIT_FIELDS));
    if (unknownKeys.length) problems.push(`${where} has unknown key(s) ${unknownKeys.join(', ')}`);
    if (typeof l.key !== 'string' || !FLOW_KEY_PATTERN.test(l.key)) problems.push(`${where}.key must be ${FLOW_KEY_RULE} (a key, or a prefix ending in *)`);
    else if (seen.has(l.key)) problems.push(`${where}.key "${l.key}" is listed twice`);
    else seen.add(l.key);
    for (const [f, max] of Object.entries(FLOW_LIMIT_FIELDS)) {
      const v = l[f];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)) problems.push(`${where}.${f} must be an integer 1..${max}`);
    }
    for (const p of limitProblems(l as FlowLimitSpec)) problems.push(`${where}${p.field === 'body' ? '' : `.${p.field}`} ${p.message}`);
  });
  if (problems.length) throw new Error(problems.join('; '));
}

function positiveInt(name: string) {
  return (v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer`);
  };
}

function httpUrl(v: unknown) {
  if (v === '') return;
  if (typeof v !== 'string') throw new Error('must be a URL string');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new Error('must be empty or an http(s) URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('must be empty or an http(s) URL');
}

/** Empty, or comma-separated server URLs (nats://host:port, tls://…, or host:port), none empty. */
function natsUrls(v: unknown) {
  if (typeof v !== 'string') throw new Error('must be a string');
  if (v.trim() === '') return;
  if (v.split(',').some((s) => s.trim() === '' || /\s/.test(s.trim()))) throw new Error('must be NATS server URLs separated by commas, none empty');
}

function hostList(v: unknown) {
  if (!Array.isArray(v) || v.some((h) => typeof h !== 'string' || h.trim() === '' || /[\s/]/.test(h))) {
    throw new Error('must be a list of host names or IP addresses (no scheme, port or path)');
  }
}

export const configSchema = {
  server: {
    port: { doc: 'API port', format: 'port', default: 8600, env: 'DISPATCH_PORT' },
    metrics_port: { doc: 'Ops port (/health, /metrics)', format: 'port', default: 8601, env: 'DISPATCH_METRICS_PORT' },
    host: { doc: 'Interface both servers bind to', format: String, default: '0.0.0.0', env: 'DISPATCH_HOST' },
    admin_token: { doc: 'Bearer token for admin routes; empty disables them', format: String, default: '', env: 'DISPATCH_ADMIN_TOKEN', sensitive: true },
    body_limit_bytes: { doc: 'Largest accepted request body', format: positiveInt('body_limit_bytes'), default: 1_048_576 },
    rate_limit_per_second: { doc: 'Sustained requests per second per agent (token bucket)', format: positiveInt('rate_limit_per_second'), default: 200 },
    rate_limit_burst: { doc: 'Burst size of the per-agent token bucket', format: positiveInt('rate_limit_burst'), default: 400 },
  },
  database: {
    url: {
      doc: 'Postgres URL; several hosts for failover (postgres://h1:5432,h2:5432/db?target_session_attrs=read-write; read-write is added when absent); empty starts embedded Postgres under data_dir',
      format: String,
      default: '',
      env: 'DISPATCH_DATABASE_URL',
      sensitive: true,
    },
    data_dir: { doc: 'Where embedded Postgres keeps its data', format: String, default: './.data', env: 'DISPATCH_DATA_DIR' },
    pool_size: { doc: 'Connections per process', format: positiveInt('pool_size'), default: 10 },
  },
  hermes: {
    url: {
      doc: 'NATS URL, or several comma-separated (the servers of a cluster); empty records events without publishing',
      format: natsUrls,
      default: '',
      env: 'DISPATCH_HERMES_URL',
    },
    stream_replicas: {
      doc: 'Replicas of the JetStream streams Dispatch creates (3 on a three-node cluster); an existing stream is left as it is',
      format: (v: unknown) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 5) throw new Error('hermes.stream_replicas must be an integer from 1 to 5');
      },
      default: 1,
      env: 'DISPATCH_HERMES_STREAM_REPLICAS',
    },
    event_retention_hours: {
      doc: 'Alias of retention.event_ms in hours (kept for old configurations); 0: not set',
      format: 'nat',
      default: 0,
    },
  },
  warren: {
    url: { doc: 'Warren base URL (availability, wake)', format: httpUrl, default: '', env: 'DISPATCH_WARREN_URL' },
    token: { doc: 'Warren admin bearer token', format: String, default: '', env: 'DISPATCH_WARREN_TOKEN', sensitive: true },
  },
  promptforge: {
    url: { doc: 'PromptForge base URL (capabilities)', format: httpUrl, default: '', env: 'DISPATCH_FORGE_URL' },
    refresh_interval_ms: {
      doc: 'Capabilities are refreshed in the background this often (served stale while PromptForge is down)',
      format: positiveInt('refresh_interval_ms'),
      default: 60_000,
    },
  },
  alexandria: {
    url: { doc: 'Alexandria base URL (ownership)', format: httpUrl, default: '', env: 'DISPATCH_ALEXANDRIA_URL' },
    cache_ttl_ms: {
      doc: "An owner's device list is reused this long (served stale while Alexandria is down)",
      format: positiveInt('cache_ttl_ms'),
      default: 60_000,
    },
  },
  assignment: {
    tick_interval_ms: { doc: 'Safety-net assignment/sweep interval', format: positiveInt('tick_interval_ms'), default: 5000, env: 'DISPATCH_TICK_INTERVAL_MS' },
    wake_timeout_ms: { doc: 'Assigned task with no progress by then goes back to pending', format: positiveInt('wake_timeout_ms'), default: 30_000 },
    default_timeout_ms: { doc: 'Per-attempt timeout when a task sets none', format: positiveInt('default_timeout_ms'), default: 300_000 },
    max_concurrent_per_agent: { doc: 'Active tasks one agent may hold', format: positiveInt('max_concurrent_per_agent'), default: 3 },
    owner_filter_enabled: { doc: "Restrict tasks with an owner to that owner's agents", format: Boolean, default: true, env: 'DISPATCH_OWNER_FILTER_ENABLED' },
    retry_backoff_base_ms: { doc: 'Retry backoff base (x 2^retry, full jitter)', format: positiveInt('retry_backoff_base_ms'), default: 1000 },
    retry_backoff_max_ms: { doc: 'Retry backoff cap', format: positiveInt('retry_backoff_max_ms'), default: 60_000 },
    batch_size: { doc: 'Pending tasks read per assignment pass', format: positiveInt('batch_size'), default: 200 },
    neighbour_timeout_ms: {
      doc: 'Budget of one request to Warren/PromptForge/Alexandria (retried at most twice)',
      format: positiveInt('neighbour_timeout_ms'),
      default: 2000,
    },
    neighbour_wait_ms: {
      doc: 'How long a tick waits for a neighbour before going on with cached data',
      format: positiveInt('neighbour_wait_ms'),
      default: 300,
    },
    fairness: {
      doc: 'fifo: priority, then age; requester: within a priority, free slots go round-robin across requesters',
      format: ['fifo', 'requester'],
      default: 'fifo',
      env: 'DISPATCH_FAIRNESS',
    },
    track_record_size: {
      doc: "Finished attempts an agent's track record covers (its last N)",
      format: (v: unknown) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 10_000) throw new Error('track_record_size must be an integer 1..10000');
      },
      default: 100,
    },
    track_record_weight: {
      doc: 'w in score × ((1 − w) + w × success_rate); 0 = the track record does not affect assignment',
      format: (v: unknown) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error('track_record_weight must be a number 0..1');
      },
      default: 0,
    },
    sync_match: {
      doc: 'A create that an agent with a free slot can take, with nothing older waiting for it, is assigned in its own statement (answers 201 assigned, CONTRACT §17); false: every task waits for a scheduler tick',
      format: Boolean,
      default: true,
      env: 'DISPATCH_SYNC_MATCH',
    },
  },
  auth: {
    mode: {
      doc: 'header: X-Agent-ID is trusted (a private network); token: a bearer token per request is the identity',
      format: ['header', 'token'],
      default: 'header',
      env: 'DISPATCH_AUTH_MODE',
    },
  },
  retention: {
    finished_task_ms: {
      doc: 'A terminal task older than this (by completed_at) is deleted with its events, deliveries and idempotency key; 0 keeps them forever',
      format: 'nat',
      default: 2_592_000_000,
      env: 'DISPATCH_RETENTION_FINISHED_TASK_MS',
    },
    event_ms: {
      doc: 'Published events of live tasks older than this are deleted (hermes.event_retention_hours, when set, is its alias)',
      format: positiveInt('retention.event_ms'),
      default: 604_800_000,
      env: 'DISPATCH_RETENTION_EVENT_MS',
    },
    schedule_runs_kept: { doc: 'Per schedule, the newest history rows kept', format: positiveInt('retention.schedule_runs_kept'), default: 1000 },
    sweep_interval_ms: { doc: 'How often the purge runs (in batches)', format: positiveInt('retention.sweep_interval_ms'), default: 60_000 },
    busy_fraction: {
      doc: 'Share of its time the purge may keep one database connection busy while a backlog lasts (0 < x ≤ 1; between slices of work it rests)',
      format: (v: unknown) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 1) throw new Error('retention.busy_fraction must be a number in (0, 1]');
      },
      default: 0.25,
    },
  },
  workflows: {
    dir: {
      doc: 'Folder of workflow definitions (*.yaml, *.yml, *.json) stored at start; empty: none',
      format: String,
      default: '',
      env: 'DISPATCH_WORKFLOWS_DIR',
    },
  },
  schedules: {
    catch_up_grace_ms: {
      doc: 'An occurrence at most this old when a replica gets to it is on time (always fires); older ones were missed and follow the schedule catch_up',
      format: 'nat',
      default: 30_000,
      env: 'DISPATCH_SCHEDULES_CATCH_UP_GRACE_MS',
    },
    max_sleep_ms: {
      doc: 'The schedule firer sleeps until the earliest next_run_at, at most this long (a safety net: creates and changes wake it by NOTIFY)',
      format: positiveInt('schedules.max_sleep_ms'),
      default: 10_000,
      env: 'DISPATCH_SCHEDULES_MAX_SLEEP_MS',
    },
    batch_size: {
      doc: 'Due schedules claimed per firing transaction',
      format: positiveInt('schedules.batch_size'),
      default: 100,
      env: 'DISPATCH_SCHEDULES_BATCH_SIZE',
    },
    default_timezone: {
      doc: 'IANA time zone of a schedule created without one (the Wordware event files name none)',
      format: (v: unknown) => {
        try {
          if (typeof v !== 'string' || v === '') throw new Error();
          new Intl.DateTimeFormat('en-US', { timeZone: v });
        } catch {
          throw new Error(`schedules.default_timezone must be an IANA time zone name, got ${JSON.stringify(v)}`);
        }
      },
      default: 'UTC',
      env: 'DISPATCH_SCHEDULES_DEFAULT_TIMEZONE',
    },
    dir: {
      doc: 'Folder of Wordware event files (*.json: name, flow, schedule) applied at start: each creates or updates the schedule of its name (requester dispatch:files); an invalid file stops the start (exit 2). Empty: none',
      format: String,
      default: '',
      env: 'DISPATCH_SCHEDULES_DIR',
    },
  },
  webhooks: {
    secret: {
      doc: 'HMAC-SHA256 key signing callbacks (X-Dispatch-Signature-256); empty: callback_url is refused (400 callbacks_disabled)',
      format: String,
      default: '',
      env: 'DISPATCH_WEBHOOKS_SECRET',
      sensitive: true,
    },
    max_attempts: {
      doc: 'Attempts per callback delivery before it is marked failed (backoff 1 s doubling to 10 min)',
      format: (v: unknown) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 100) throw new Error('max_attempts must be an integer 1..100');
      },
      default: 12,
    },
    allowed_hosts: {
      doc: 'Callback hosts exempt from the private-address check (exact host names or IP literals)',
      format: hostList,
      default: [] as string[],
    },
  },
  http_work: {
    base_url: {
      doc: 'A call whose url is a path is joined to this (Wisely EDGE_BASE_URL); empty: a path url is refused at create (400)',
      format: httpUrl,
      default: '',
      env: 'DISPATCH_HTTP_WORK_BASE_URL',
    },
    service_token: {
      doc: 'Bearer token of calls and endpoint pushes without a credential (Wisely EDGE_SERVICE_JWT); empty: no Authorization',
      format: String,
      default: '',
      env: 'DISPATCH_HTTP_WORK_SERVICE_TOKEN',
      sensitive: true,
    },
    credentials: {
      doc: 'name → secret, sent as Authorization: Bearer <secret> by a call naming it; DISPATCH_HTTP_WORK_CREDENTIAL_<NAME> sets one; WORDWARE_API_KEY is `wordware` when unset',
      // Object: convict keeps the mapping whole (a leaf); credentialProblems checks inside it.
      format: Object,
      default: {} as Record<string, string>,
      sensitive: true,
    },
    allowed_hosts: {
      doc: 'Call and endpoint hosts exempt from the private-address check (exact host names or IP literals)',
      format: hostList,
      default: [] as string[],
    },
    max_in_flight: { doc: 'Calls (and endpoint pushes) in flight per replica', format: positiveInt('http_work.max_in_flight'), default: 64 },
    per_host: { doc: 'Calls in flight per destination host per replica', format: positiveInt('http_work.per_host'), default: 16 },
  },
  logging: {
    level: { doc: 'pino level', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', env: 'DISPATCH_LOG_LEVEL' },
    format: { doc: 'json or pretty', format: ['json', 'pretty'], default: 'json', env: 'DISPATCH_LOG_FORMAT' },
  },
  flow: {
    limits: {
      doc: 'Flow limits (CONTRACT §20, docs/flow-control.md): [{key: exact key or prefix ending in *, rate?, per_ms?, burst?, concurrency?}]; the longest matching pattern applies; an api limit (PUT /api/v1/flow/limits/:key) overrides the same key',
      format: validateFlowLimits,
      default: [] as FlowLimitConfig[],
    },
  },
  agents: {
    doc: "Standalone roster used while the neighbours' URLs are empty",
    format: validateRoster,
    default: [] as RosterAgent[],
  },
  intake: {
    doc: 'Signed webhook sources (POST /api/v1/hooks/:source): source name → {secret, signature_header, ...}; docs/webhooks.md',
    // Object: convict keeps the mapping whole (a leaf); config-intake.ts checks inside it.
    format: Object,
    default: {} as Record<string, IntakeSource>,
    // Holds the HMAC secrets: never printed by convict (no "value was …"), redacted by redactedConfig.
    sensitive: true,
  },
};

type Raw = ReturnType<convict.Config<SchemaType>['getProperties']>;
interface SchemaType {
  server: {
    port: number;
    metrics_port: number;
    host: string;
    admin_token: string;
    body_limit_bytes: number;
    rate_limit_per_second: number;
    rate_limit_burst: number;
  };
  database: { url: string; data_dir: string; pool_size: number };
  hermes: { url: string; event_retention_hours: number; stream_replicas: number };
  warren: { url: string; token: string };
  promptforge: { url: string; refresh_interval_ms: number };
  alexandria: { url: string; cache_ttl_ms: number };
  assignment: {
    tick_interval_ms: number;
    wake_timeout_ms: number;
    default_timeout_ms: number;
    max_concurrent_per_agent: number;
    owner_filter_enabled: boolean;
    retry_backoff_base_ms: number;
    retry_backoff_max_ms: number;
    batch_size: number;
    neighbour_timeout_ms: number;
    neighbour_wait_ms: number;
    fairness: 'fifo' | 'requester';
    track_record_size: number;
    track_record_weight: number;
    sync_match: boolean;
  };
  auth: { mode: 'header' | 'token' };
  retention: { finished_task_ms: number; event_ms: number; schedule_runs_kept: number; sweep_interval_ms: number; busy_fraction: number };
  workflows: { dir: string };
  schedules: { catch_up_grace_ms: number; max_sleep_ms: number; batch_size: number; default_timezone: string; dir: string };
  webhooks: { secret: string; max_attempts: number; allowed_hosts: string[] };
  http_work: {
    base_url: string;
    service_token: string;
    credentials: Record<string, string>;
    allowed_hosts: string[];
    max_in_flight: number;
    per_host: number;
  };
  logging: { level: string; format: 'json' | 'pretty' };
  flow: { limits: FlowLimitConfig[] };
  agents: RosterAgent[];
  intake: Record<string, IntakeSource>;
}
export type Config = Raw;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function normaliseRoster(agents: RosterAgent[]): RosterAgent[] {
  return agents.map((a) => ({
    id: a.id,
    name: a.name ?? a.id,
    capabilities: (a.capabilities ?? []).map((c) => c.trim().toLowerCase()).filter(Boolean),
    ...(a.owner ? { owner: a.owner } : {}),
    state: a.state ?? 'ready',
    ...(a.endpoint ? { endpoint: { url: a.endpoint.url, ...(a.endpoint.credential !== undefined ? { credential: a.endpoint.credential } : {}) } } : {}),
  }));
}

export interface LoadOptions {
  /** Path to a YAML file; undefined → DISPATCH_CONFIG, else ./config.yaml if present. */
  file?: string | null;
  /** Environment to read overrides from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Extra values applied last (tests). */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const cfg = convict(configSchema as never, { env: env as Record<string, string> }) as unknown as convict.Config<SchemaType>;
  const problems: string[] = [];
  const file = opts.file === undefined ? (env.DISPATCH_CONFIG ?? (existsSync('config.yaml') ? 'config.yaml' : null)) : opts.file;
  if (file) {
    try {
      const parsed = yaml.load(readFileSync(file, 'utf8'));
      if (parsed !== undefined && parsed !== null) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${file}: top level must be a mapping`);
        else cfg.load(parsed as never);
      }
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (opts.overrides) cfg.load(opts.overrides as never);
  const intake = cfg.get('intake') as unknown;
  if (isObject(intake)) cfg.set('intake', withEnvSecrets(intake, env) as never);
  const credentials = cfg.get('http_work.credentials') as unknown;
  if (isObject(credentials)) cfg.set('http_work.credentials', withEnvCredentials(credentials, env) as never);
  try {
    cfg.validate({ allowed: 'strict' });
  } catch (err) {
    problems.push(...(err as Error).message.split('\n').filter((l) => l.trim() !== ''));
  }
  const httpWork = {
    base_url: String(cfg.get('http_work.base_url') ?? ''),
    credentials: isObject(cfg.get('http_work.credentials')) ? (cfg.get('http_work.credentials') as Record<string, string>) : {},
  };
  problems.push(...intakeProblems(cfg.get('intake') as unknown, cfg.get('assignment.default_timeout_ms') as number, httpWork));
  problems.push(...credentialProblems(cfg.get('http_work.credentials') as unknown));
  const known = cfg.get('http_work.credentials') as unknown;
  const agents = cfg.get('agents') as unknown;
  if (Array.isArray(agents) && isObject(known)) {
    agents.forEach((a: unknown, i) => {
      const c = isObject(a) && isObject(a.endpoint) ? a.endpoint.credential : undefined;
      if (typeof c === 'string' && c !== WORDWARE_CREDENTIAL && !(c in known))
        problems.push(`agents[${i}].endpoint.credential "${c}" is not in http_work.credentials`);
    });
  }
  if (problems.length) throw new ConfigError(problems);
  const props = cfg.getProperties() as Config;
  props.agents = normaliseRoster(props.agents);
  // hermes.event_retention_hours, the old key, is retention.event_ms's alias: it applies when set
  // and retention.event_ms was left at its default (the new key wins when both are given).
  if (props.hermes.event_retention_hours > 0 && props.retention.event_ms === cfg.default('retention.event_ms')) {
    props.retention.event_ms = props.hermes.event_retention_hours * 3_600_000;
  }
  return props;
}

/** The configuration with secrets replaced, for logs. */
export function redactedConfig(cfg: Config): Config {
  const copy = structuredClone(cfg);
  if (copy.server.admin_token) copy.server.admin_token = '[redacted]';
  if (copy.warren.token) copy.warren.token = '[redacted]';
  if (copy.webhooks.secret) copy.webhooks.secret = '[redacted]';
  copy.database.url = redactUrl(copy.database.url);
  copy.hermes.url = redactUrl(copy.hermes.url);
  for (const source of Object.values(copy.intake ?? {})) if (source.secret) source.secret = '[redacted]';
  if (copy.http_work.service_token) copy.http_work.service_token = '[redacted]';
  copy.http_work.credentials = Object.fromEntries(Object.keys(copy.http_work.credentials ?? {}).map((k) => [k, '[redacted]']));
  return copy;
}

/**
 * `DISPATCH_INTAKE_<SOURCE>_SECRET` (the source name upper-cased, `-` as `_`) sets the secret of a
 * source that the file configures, so the secret can stay out of config.yaml. The env cannot add
 * a source: the rest of a source's settings come from the file.
 */
export function intakeSecretVariable(source: string): string {
  return `DISPATCH_INTAKE_${source.toUpperCase().replace(/-/g, '_')}_SECRET`;
}

function withEnvSecrets(intake: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, source] of Object.entries(intake)) {
    const secret = env[intakeSecretVariable(name)];
    out[name] = secret !== undefined && isObject(source) ? { ...source, secret } : source;
  }
  return out;
}

const CREDENTIAL_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const CREDENTIAL_PREFIX = 'DISPATCH_HTTP_WORK_CREDENTIAL_';

/** The environment variable that sets credential `name`: its name upper-cased, `-` and `.` as `_`. */
export function credentialVariable(name: string): string {
  return `${CREDENTIAL_PREFIX}${name.toUpperCase().replace(/[-.]/g, '_')}`;
}

/**
 * http_work.credentials with the environment applied: DISPATCH_HTTP_WORK_CREDENTIAL_<NAME> sets
 * the credential of the file whose variable it is, or adds one named <name> in lower case (so
 * a secret need never be in config.yaml); WORDWARE_API_KEY is `wordware` unless that is set.
 */
function withEnvCredentials(credentials: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = { ...credentials };
  const byVariable = new Map(Object.keys(credentials).map((k) => [credentialVariable(k), k]));
  for (const [k, v] of Object.entries(env)) {
    if (!k.startsWith(CREDENTIAL_PREFIX) || v === undefined || k.length === CREDENTIAL_PREFIX.length) continue;
    out[byVariable.get(k) ?? k.slice(CREDENTIAL_PREFIX.length).toLowerCase()] = v;
  }
  if ((out[WORDWARE_CREDENTIAL] === undefined || out[WORDWARE_CREDENTIAL] === '') && env.WORDWARE_API_KEY) out[WORDWARE_CREDENTIAL] = env.WORDWARE_API_KEY;
  return out;
}

function credentialProblems(credentials: unknown): string[] {
  if (!isObject(credentials)) return ['http_work.credentials: must be a mapping of name to secret'];
  return Object.entries(credentials).flatMap(([name, secret]) => [
    ...(CREDENTIAL_NAME.test(name) ? [] : [`http_work.credentials: name "${name}" must be 1-64 chars of A-Za-z0-9_.-`]),
    // Never the value itself: it is a secret.
    ...(typeof secret === 'string' ? [] : [`http_work.credentials.${name}: must be a string`]),
  ]);
}

export function redactUrl(url: string): string {
  if (!url) return url;
  if (url.includes(',')) {
    // Several servers (a NATS cluster's list, a multi-host Postgres URL), which URL cannot parse:
    // every userinfo's password replaced, the rest kept as written.
    return url.replace(/(\/\/[^/@:,]*:)[^/@]*@/g, '$1redacted@');
  }
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
