// `dispatch` — the command line of Dispatch (CONTRACT §22, docs/clients.md). Every command is one
// API call through the typed client (or the raw route, for routes not in openapi.yaml yet), printed
// as a table for people or, with --json, as the API's JSON. Exit 0 ok, 1 on an API error (its
// message and code on stderr), 2 on a usage error. `start` and `migrate` run the service itself
// from a Dispatch checkout.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { bearerFor, createClient, unwrap, type DispatchClient } from './client.js';
import { DispatchApiError, apiError } from './errors.js';
import { readEventStream } from './sse.js';

export const DEFAULT_URL = 'http://localhost:8600';
const TERMINAL_STATUSES = new Set(['completed', 'failed', 'timed_out', 'cancelled']);

class UsageError extends Error {}

interface Globals {
  url: string;
  agent: string;
  token?: string;
  adminToken?: string;
  json?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Output

type Row = Record<string, unknown>;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** A plain text table: a header row, then one row per item; long cells are cut at 60 characters. */
export function table(rows: Row[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  const cells = rows.map((r) => columns.map((c) => cut(cell(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** One object as `key: value` lines (nested values as JSON). */
function details(obj: Row): string {
  const width = Math.max(...Object.keys(obj).map((k) => k.length));
  return Object.entries(obj)
    .map(([k, v]) => `${k.padEnd(width)}  ${typeof v === 'object' && v !== null ? JSON.stringify(v) : cell(v)}`)
    .join('\n');
}

function out(text: string): void {
  process.stdout.write(`${text}\n`);
}

// ---------------------------------------------------------------------------------------------
// Argument parsing helpers

function int(name: string, min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
}

function jsonObject(v: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('must be a JSON object, e.g. \'{"topic":"x"}\'');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('must be a JSON object');
  return parsed as Record<string, unknown>;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

// ---------------------------------------------------------------------------------------------
// The service (start, migrate): from a Dispatch checkout

/** The repository root this package sits in (packages/client → ../..), or a usage error. */
function serviceRoot(): string {
  const root = path.resolve(fileURLToPath(new URL('../../..', import.meta.url)));
  if (!existsSync(path.join(root, 'src', 'main.ts')) && !existsSync(path.join(root, 'dist', 'main.js'))) {
    throw new UsageError('dispatch start/migrate run the service from a Dispatch checkout (src/main.ts or dist/main.js not found)');
  }
  return root;
}

/** Run node with args in the checkout, forwarding SIGINT/SIGTERM; resolves with its exit code. */
function runNode(root: string, args: string[]): Promise<number> {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env: process.env });
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15) : 1));
    }),
  );
}

/** The built service (dist/, `npm run build`) when there is one, else its TypeScript through tsx. */
function serviceEntry(root: string): { flavour: 'dist' | 'src'; nodeArgs: string[] } {
  const flags = serviceNodeFlags(root);
  return existsSync(path.join(root, 'dist', 'main.js')) ? { flavour: 'dist', nodeArgs: flags } : { flavour: 'src', nodeArgs: [...flags, '--import', 'tsx'] };
}

/** The node flags of the checkout's `npm start` (`node <flags> dist/main.js`), so the service runs as npm start runs it. */
export function serviceNodeFlags(root: string): string[] {
  try {
    const start = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
    const words = start.split(/\s+/);
    return words[0] === 'node' ? words.slice(1).filter((w) => w.startsWith('--')) : [];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------
// The program

export function buildProgram(): Command {
  const program = new Command('dispatch')
    .description('Command line of Dispatch, the task broker for AI agents')
    .addOption(new Option('--url <url>', 'API base URL').env('DISPATCH_URL').default(DEFAULT_URL))
    .addOption(new Option('--agent <id>', 'X-Agent-ID of the caller').env('DISPATCH_AGENT_ID').default('cli'))
    .addOption(new Option('--token <token>', 'agent token (auth.mode token)').env('DISPATCH_TOKEN'))
    .addOption(new Option('--admin-token <token>', 'admin token, for admin routes').env('DISPATCH_ADMIN_TOKEN'))
    .option('--json', "print the API's JSON instead of a table")
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const globals = (): Globals => program.opts<Globals>();
  const api = (): DispatchClient => {
    const g = globals();
    return createClient({
      url: g.url,
      agent: g.agent,
      ...(g.token ? { token: g.token } : {}),
      ...(g.adminToken ? { adminToken: g.adminToken } : {}),
    });
  };
  /** A route that openapi.yaml does not describe yet (another branch builds it): plain fetch. */
  const raw = async (method: string, route: string, schemaPath: string, body?: unknown): Promise<unknown> => {
    const g = globals();
    const headers: Record<string, string> = { 'x-agent-id': g.agent };
    const bearer = bearerFor(g, method, schemaPath);
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${g.url.replace(/\/+$/, '')}${route}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const parsed: unknown = await res.json().catch(() => undefined);
    if (!res.ok) throw apiError(res.status, parsed);
    return parsed;
  };
  /** Print the API's JSON (--json) or the human form. */
  const show = (data: unknown, human: () => string) => out(globals().json ? JSON.stringify(data, null, 2) : human());
  const id = (v: string) => v;

  const TASK_COLUMNS = ['id', 'status', 'priority', 'title', 'scope', 'assignee', 'requester', 'created_at'];

  // --- tasks
  const tasks = program.command('tasks').description('create, list, inspect and steer tasks');
  tasks
    .command('create')
    .description('create a task (POST /api/v1/tasks)')
    .argument('<title>', 'what to do (1..500 characters)')
    .option('--scope <tag>', 'the kind of work (a required capability)')
    .option('--capability <tag>', 'a further required capability (repeatable)', collect)
    .option('--priority <n>', '0..10, default 5', int('priority', 0, 10))
    .option('--description <text>', 'longer description')
    .option('--owner <owner>', 'whose agents may do it')
    .option('--context <json>', 'free JSON object', jsonObject)
    .option('--timeout-ms <ms>', 'per attempt', int('timeout-ms', 1, 2 ** 31 - 1))
    .option('--max-retries <n>', '0..20', int('max-retries', 0, 20))
    .option('--heartbeat-timeout-ms <ms>', 'time out a worker that goes silent this long', int('heartbeat-timeout-ms', 1000, 2 ** 31 - 1))
    .option('--idempotency-key <key>', 'a retried create returns the first task')
    .action(async (title: string, o) => {
      const body = {
        title,
        ...(o.scope !== undefined ? { scope: o.scope } : {}),
        ...(o.capability ? { capabilities: o.capability } : {}),
        ...(o.priority !== undefined ? { priority: o.priority } : {}),
        ...(o.description !== undefined ? { description: o.description } : {}),
        ...(o.owner !== undefined ? { owner: o.owner } : {}),
        ...(o.context !== undefined ? { context: o.context } : {}),
        ...(o.timeoutMs !== undefined ? { timeout_ms: o.timeoutMs } : {}),
        ...(o.maxRetries !== undefined ? { max_retries: o.maxRetries } : {}),
        ...(o.heartbeatTimeoutMs !== undefined ? { heartbeat_timeout_ms: o.heartbeatTimeoutMs } : {}),
      };
      const task = await unwrap(
        api().POST('/api/v1/tasks', { body, params: { header: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} } as never }),
      );
      show(task, () => details(task as Row));
    });
  tasks
    .command('list')
    .description('list tasks, newest first (GET /api/v1/tasks)')
    .option('--status <list>', 'comma list of statuses')
    .option('--requester <id>')
    .option('--assignee <id>')
    .option('--scope <tag>')
    .option('--owner <owner>')
    .option('--limit <n>', '1..500, default 50', int('limit', 1, 500))
    .option('--cursor <cursor>', 'next_cursor of the previous page')
    .action(async (o) => {
      const query = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
      const page = await unwrap(api().GET('/api/v1/tasks', { params: { query } }));
      show(page, () => table(page.tasks as Row[], TASK_COLUMNS) + (page.next_cursor ? `\nnext page: --cursor ${page.next_cursor}` : ''));
    });
  tasks
    .command('get')
    .description('one task (GET /api/v1/tasks/:id); --wait S awaits its end')
    .argument('<id>', 'task id', id)
    .option('--wait <s>', 'seconds to wait for the task to end (0..60)', int('wait', 0, 60))
    .action(async (taskId: string, o) => {
      const task = await unwrap(api().GET('/api/v1/tasks/{id}', { params: { path: { id: taskId }, query: o.wait !== undefined ? { wait: o.wait } : {} } }));
      show(task, () => details(task as Row));
    });
  tasks
    .command('cancel')
    .description('cancel a task (PATCH status cancelled; requester or admin)')
    .argument('<id>', 'task id', id)
    .action(async (taskId: string) => {
      const task = await unwrap(api().PATCH('/api/v1/tasks/{id}', { params: { path: { id: taskId } }, body: { status: 'cancelled' } }));
      show(task, () => `${task.id} ${task.status}`);
    });
  tasks
    .command('retry')
    .description('retry a failed, timed-out or cancelled task (requester or admin)')
    .argument('<id>', 'task id', id)
    .action(async (taskId: string) => {
      const task = await unwrap(api().POST('/api/v1/tasks/{id}/retry', { params: { path: { id: taskId } } }));
      show(task, () => `${task.id} ${task.status}`);
    });
  tasks
    .command('watch')
    .description("follow a task's events as they happen, until it ends (server-sent events)")
    .argument('<id>', 'task id', id)
    .action(async (taskId: string) => {
      const g = globals();
      const headers: Record<string, string> = { 'x-agent-id': g.agent };
      const bearer = bearerFor(g, 'GET', '/api/v1/tasks/{id}/events');
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      for await (const frame of readEventStream(`${g.url.replace(/\/+$/, '')}/api/v1/tasks/${encodeURIComponent(taskId)}/events`, { headers })) {
        const envelope = JSON.parse(frame.data) as { type: string; timestamp: string; data: { task: Row } & Row };
        if (g.json) out(JSON.stringify(envelope));
        else {
          const { task, ...extra } = envelope.data;
          const facts = Object.entries(extra)
            .map(([k, v]) => `${k}=${cell(v)}`)
            .join(' ');
          out(`${envelope.timestamp}  ${envelope.type.padEnd(20)} ${cell(task.status)}${facts ? `  ${facts}` : ''}`);
        }
        // The server ends the stream after a terminal event too; stop at once rather than wait for it.
        if (TERMINAL_STATUSES.has(String(envelope.data.task.status))) break;
      }
    });
  tasks
    .command('explain')
    .description('why this agent, why none (GET /api/v1/tasks/:id/explain)')
    .argument('<id>', 'task id', id)
    .action(async (taskId: string) => {
      const e = await unwrap(api().GET('/api/v1/tasks/{id}/explain', { params: { path: { id: taskId } } }));
      show(e, () =>
        [
          `task ${e.task_id} (${e.status}), needs ${e.required_tags.join(', ') || 'nothing'}`,
          `decision: ${e.decision.agent ?? 'none'}${e.decision.reason ? ` (${e.decision.reason})` : ''}`,
          table(
            e.candidates.map((c) => ({ ...c, reasons: c.reasons.join(', ') })),
            ['agent', 'eligible', 'score', 'availability', 'active_tasks', 'max_concurrent', 'reasons'],
          ),
        ].join('\n'),
      );
    });
  tasks
    .command('attempts')
    .description("a task's attempts (GET /api/v1/tasks/:id/attempts)")
    .argument('<id>', 'task id', id)
    .action(async (taskId: string) => {
      const res = (await raw('GET', `/api/v1/tasks/${encodeURIComponent(taskId)}/attempts`, '/api/v1/tasks/{id}/attempts')) as { attempts: Row[] };
      show(res, () => table(res.attempts, ['attempt', 'agent', 'outcome', 'started_at', 'finished_at', 'duration_ms', 'status_code', 'error']));
    });

  // --- agents (admin)
  const agents = program.command('agents').description('the agent directory (admin token)');
  agents
    .command('list')
    .description('every agent with its state and load (GET /api/v1/agents)')
    .action(async () => {
      const res = await unwrap(api().GET('/api/v1/agents'));
      show(res, () =>
        table(
          res.agents.map((a) => ({ ...a, capabilities: a.capabilities.join(','), load: `${a.active_tasks}/${a.max_concurrent}` })),
          ['id', 'state', 'load', 'drained', 'capabilities'],
        ),
      );
    });
  for (const [name, method, verb] of [
    ['drain', 'POST', 'no new assignments'],
    ['undrain', 'DELETE', 'assignments again'],
  ] as const) {
    agents
      .command(name)
      .description(`${name} an agent: ${verb}`)
      .argument('<id>', 'agent id')
      .action(async (agentId: string) => {
        const c = api();
        const opts = { params: { path: { id: agentId } } };
        const res = await unwrap(method === 'POST' ? c.POST('/api/v1/agents/{id}/drain', opts) : c.DELETE('/api/v1/agents/{id}/drain', opts));
        show(res, () => `${res.id} drained=${res.drained}`);
      });
  }

  // --- workflows
  const workflows = program.command('workflows').description('workflow definitions and runs');
  workflows
    .command('apply')
    .description('store a workflow definition from a YAML or JSON file (PUT /api/v1/workflows/:key)')
    .argument('<file>', 'the definition (.yaml, .yml or .json)')
    .option('--key <key>', "the workflow's key (default: the file's key:, else its name)")
    .action(async (file: string, o) => {
      if (!existsSync(file)) throw new UsageError(`no such file: ${file}`);
      const text = readFileSync(file, 'utf8');
      const isYaml = /\.ya?ml$/i.test(file);
      const keyInFile = /^key:\s*["']?([a-z0-9_.-]+)["']?\s*$/m.exec(text)?.[1] ?? (isYaml ? undefined : safeJsonKey(text));
      const key: string = o.key ?? keyInFile ?? path.basename(file).replace(/\.(ya?ml|json)$/i, '');
      // The API parses YAML itself (application/yaml): the file goes as it is.
      const res = await unwrap(
        api().PUT('/api/v1/workflows/{key}', {
          params: { path: { key } },
          body: text as never,
          bodySerializer: (b: unknown) => b as string,
          headers: { 'content-type': isYaml ? 'application/yaml' : 'application/json' },
        }),
      );
      show(res, () => `${res.key} version ${res.version} (${res.steps.length} steps)`);
    });
  workflows
    .command('list')
    .description('every workflow, latest versions')
    .action(async () => {
      const res = await unwrap(api().GET('/api/v1/workflows'));
      show(res, () => table(res.workflows.map((w) => ({ ...w, steps: w.steps.length })) as Row[], ['key', 'version', 'steps', 'description', 'updated_at']));
    });
  workflows
    .command('run')
    .description('start a run of a workflow (POST /api/v1/workflows/:key/runs)')
    .argument('<key>', 'workflow key')
    .option('--context <json>', "merged into every step's task context", jsonObject)
    .option('--idempotency-key <key>')
    .action(async (key: string, o) => {
      const run = await unwrap(
        api().POST('/api/v1/workflows/{key}/runs', {
          params: { path: { key }, header: o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {} } as never,
          body: o.context ? { context: o.context } : {},
        }),
      );
      show(run, () => `run ${run.id} ${run.status}\n${table(run.steps as Row[], ['step_id', 'status', 'task_id'])}`);
    });

  // --- schedules
  const schedules = program.command('schedules').description('cron and calendar schedules');
  schedules
    .command('list')
    .description('schedules (GET /api/v1/schedules)')
    .option('--requester <id>')
    .option('--paused <bool>', 'true or false')
    .action(async (o) => {
      if (o.paused !== undefined && !['true', 'false'].includes(o.paused)) throw new UsageError('--paused must be true or false');
      const query = {
        ...(o.requester ? { requester: o.requester } : {}),
        ...(o.paused !== undefined ? { paused: o.paused as 'true' | 'false' } : {}),
      };
      const res = await unwrap(api().GET('/api/v1/schedules', { params: { query } }));
      show(res, () =>
        table(
          res.schedules.map((s) => ({ ...s, when: s.cron ?? s.calendar })),
          ['id', 'name', 'when', 'timezone', 'paused', 'next_run_at', 'requester'],
        ),
      );
    });
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    schedules
      .command(name)
      .description(`${name} a schedule (PATCH paused=${paused})`)
      .argument('<id>', 'schedule id')
      .action(async (scheduleId: string) => {
        const s = await unwrap(api().PATCH('/api/v1/schedules/{id}', { params: { path: { id: scheduleId } }, body: { paused } }));
        show(s, () => `${s.id} ${s.name} paused=${s.paused} next_run_at=${cell(s.next_run_at)}`);
      });
  }
  schedules
    .command('trigger')
    .description('one occurrence now, outside the timetable')
    .argument('<id>', 'schedule id')
    .action(async (scheduleId: string) => {
      const res = await unwrap(api().POST('/api/v1/schedules/{id}/trigger', { params: { path: { id: scheduleId } }, body: {} }));
      show(res, () => details(res as Row));
    });

  // --- tokens (admin)
  const tokens = program.command('tokens').description("agents' tokens (admin token)");
  tokens
    .command('create')
    .description('issue a token for an agent (shown once)')
    .argument('<agent>', 'agent id')
    .option('--label <label>', 'what the token is for')
    .action(async (agentId: string, o) => {
      const res = await unwrap(api().POST('/api/v1/agents/{id}/tokens', { params: { path: { id: agentId } }, body: o.label ? { label: o.label } : {} }));
      show(res, () => `${res.token}\n(id ${res.id}; shown once, keep it now)`);
    });
  tokens
    .command('list')
    .description("an agent's tokens (never the secret)")
    .argument('<agent>', 'agent id')
    .action(async (agentId: string) => {
      const res = await unwrap(api().GET('/api/v1/agents/{id}/tokens', { params: { path: { id: agentId } } }));
      show(res, () => table(res.tokens as Row[], ['id', 'label', 'created_at', 'last_used_at']));
    });
  tokens
    .command('revoke')
    .description('revoke a token')
    .argument('<agent>', 'agent id')
    .argument('<token-id>', 'token id')
    .action(async (agentId: string, tokenId: string) => {
      await unwrap(api().DELETE('/api/v1/agents/{id}/tokens/{token_id}', { params: { path: { id: agentId, token_id: tokenId } } }));
      show({ id: tokenId, revoked: true }, () => `${tokenId} revoked`);
    });

  // --- events
  const events = program.command('events').description('trigger events for workflows');
  events
    .command('emit')
    .description('emit a trigger event (POST /api/v1/trigger-events)')
    .argument('<type>', 'event type, e.g. streak_ping')
    .option('--user-id <id>')
    .option('--intent-id <id>')
    .option('--payload <json>', 'JSON object', jsonObject)
    .action(async (type: string, o) => {
      const body = {
        type,
        ...(o.userId ? { user_id: o.userId } : {}),
        ...(o.intentId ? { intent_id: o.intentId } : {}),
        ...(o.payload ? { payload: o.payload } : {}),
      };
      const res = (await raw('POST', '/api/v1/trigger-events', '/api/v1/trigger-events', body)) as { event_id: string; runs: string[] };
      show(res, () => `event ${res.event_id}: ${res.runs.length} run(s)${res.runs.length ? ` ${res.runs.join(', ')}` : ''}`);
    });

  // --- the service
  program
    .command('migrate')
    .description("apply the service's migrations to its database (config.yaml / DISPATCH_*) and exit")
    .action(async () => {
      const root = serviceRoot();
      const { flavour, nodeArgs } = serviceEntry(root);
      process.exitCode = await runNode(root, [...nodeArgs, fileURLToPath(new URL('../bin/migrate.mjs', import.meta.url)), root, flavour]);
    });
  program
    .command('start')
    .description('run the service (dist/main.js when built, else src/main.ts through tsx)')
    .action(async () => {
      const root = serviceRoot();
      const { flavour, nodeArgs } = serviceEntry(root);
      process.exitCode = await runNode(root, [...nodeArgs, flavour === 'dist' ? 'dist/main.js' : 'src/main.ts']);
    });

  return program;
}

function safeJsonKey(text: string): string | undefined {
  try {
    const v = JSON.parse(text) as { key?: unknown };
    return typeof v.key === 'string' ? v.key : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the CLI; resolves with the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version are not errors; anything else commander refuses is a usage error.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`dispatch: ${err.message}\n`);
      return 2;
    }
    if (err instanceof DispatchApiError) {
      process.stderr.write(`dispatch: ${err.message} (${err.code}, HTTP ${err.status})\n`);
      if (err.details !== undefined) process.stderr.write(`${JSON.stringify(err.details)}\n`);
      return 1;
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    process.stderr.write(`dispatch: ${(err as Error).message}${cause?.message ? `: ${cause.message}` : ''}\n`);
    return 1;
  }
}
