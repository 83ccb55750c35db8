import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactedConfig } from '../src/config.js';
import { CONFIG_DOCS_FILE, renderConfigDocs } from '../scripts/config-docs.js';

function yamlFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-cfg-'));
  const file = path.join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has the contract defaults with no file and no environment', () => {
    const c = loadConfig({ file: null, env: {} });
    expect(c.server).toMatchObject({ port: 8600, metrics_port: 8601, admin_token: '' });
    expect(c.assignment).toMatchObject({
      tick_interval_ms: 5000,
      wake_timeout_ms: 30000,
      default_timeout_ms: 300000,
      max_concurrent_per_agent: 3,
      owner_filter_enabled: true,
      retry_backoff_base_ms: 1000,
      retry_backoff_max_ms: 60000,
    });
    expect(c.logging).toEqual({ level: 'info', format: 'json' });
    expect(c.database.url).toBe('');
  });

  it('reads the file and lets environment variables win over it', () => {
    const file = yamlFile('server: { port: 9100, admin_token: from-file }\nassignment: { tick_interval_ms: 100 }\n');
    const c = loadConfig({ file, env: { DISPATCH_PORT: '9200', DISPATCH_OWNER_FILTER_ENABLED: 'false', DISPATCH_WARREN_URL: 'http://127.0.0.1:1' } });
    expect(c.server.port).toBe(9200);
    expect(c.server.admin_token).toBe('from-file');
    expect(c.assignment.tick_interval_ms).toBe(100);
    expect(c.assignment.owner_filter_enabled).toBe(false);
    expect(c.warren.url).toBe('http://127.0.0.1:1');
  });

  it('takes the file path from DISPATCH_CONFIG', () => {
    const file = yamlFile('server: { metrics_port: 9301 }\n');
    expect(loadConfig({ env: { DISPATCH_CONFIG: file } }).server.metrics_port).toBe(9301);
  });

  it('lists every problem at once', () => {
    const file = yamlFile('server: { port: 8600, colour: blue }\nassignment: { tick_interval_ms: -5 }\n');
    const problems = problemsOf(() => loadConfig({ file, env: { DISPATCH_PORT: 'abc', DISPATCH_LOG_LEVEL: 'loud' } }));
    expect(problems.join('\n')).toMatch(/server\.port/);
    expect(problems.join('\n')).toMatch(/tick_interval_ms/);
    expect(problems.join('\n')).toMatch(/server\.colour/);
    expect(problems.join('\n')).toMatch(/logging\.level/);
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  it('rejects malformed YAML and a bad roster', () => {
    expect(problemsOf(() => loadConfig({ file: yamlFile('server: [1, 2\n'), env: {} }))[0]).toMatch(/config\.yaml/);
    const roster = yamlFile('agents:\n  - { id: "has space" }\n');
    expect(problemsOf(() => loadConfig({ file: roster, env: {} })).join()).toMatch(/agents\[0\]\.id/);
    const badState = yamlFile('agents:\n  - { id: a, state: napping }\n');
    expect(problemsOf(() => loadConfig({ file: badState, env: {} })).join()).toMatch(/agents\[0\]\.state/);
  });

  it('normalises the roster: capability tags lower-case, name and state defaulted', () => {
    const file = yamlFile('agents:\n  - { id: scout, capabilities: [" Research ", ANALYSIS, ""] }\n');
    expect(loadConfig({ file, env: {} }).agents).toEqual([{ id: 'scout', name: 'scout', capabilities: ['research', 'analysis'], state: 'ready' }]);
  });

  it('redacts secrets for logging', () => {
    const c = loadConfig({
      file: null,
      env: { DISPATCH_ADMIN_TOKEN: 's3cret', DISPATCH_WARREN_TOKEN: 'w4rren', DISPATCH_DATABASE_URL: 'postgres://u:pw@db/x' },
    });
    const text = JSON.stringify(redactedConfig(c));
    expect(text).not.toMatch(/s3cret|w4rren|:pw@/);
    expect(c.server.admin_token).toBe('s3cret');
  });

  it('failover (CONTRACT §23): several NATS servers and database hosts, the stream replica count, redaction of each password', () => {
    const c = loadConfig({
      file: null,
      env: {
        DISPATCH_HERMES_URL: 'nats://a:n4ts@n1:4222,nats://a:n4ts@n2:4222',
        DISPATCH_HERMES_STREAM_REPLICAS: '3',
        DISPATCH_DATABASE_URL: 'postgres://u:pw@h1:5432,h2:5433/x?target_session_attrs=read-write',
      },
    });
    expect(c.hermes.stream_replicas).toBe(3);
    expect(loadConfig({ file: null, env: {} }).hermes.stream_replicas).toBe(1);
    const r = redactedConfig(c);
    expect(r.database.url).toBe('postgres://u:redacted@h1:5432,h2:5433/x?target_session_attrs=read-write');
    expect(r.hermes.url).toBe('nats://a:redacted@n1:4222,nats://a:redacted@n2:4222');
    for (const bad of ['0', '6', '2.5']) {
      expect(() => loadConfig({ file: null, env: { DISPATCH_HERMES_STREAM_REPLICAS: bad } }), bad).toThrow(/hermes\.stream_replicas/);
    }
    expect(() => loadConfig({ file: null, env: { DISPATCH_HERMES_URL: 'nats://n1:4222,,nats://n2:4222' } })).toThrow(/hermes\.url/);
  });

  it('the shipped config.yaml is valid and has the example roster', () => {
    const c = loadConfig({ file: 'config.yaml', env: {} });
    expect(c.agents.map((a) => a.id)).toEqual(['scout', 'builder']);
  });

  it('a bad value stops `npm start` with one message naming the key and a non-zero exit', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, DISPATCH_PORT: 'abc', DISPATCH_CONFIG: 'config.yaml' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/invalid configuration/);
    expect(r.stderr).toMatch(/server\.port/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/); // no stack trace
  });
});

describe('docs/config.md', () => {
  it('is generated from the schema (run `npm run config:docs` when this fails)', () => {
    const text = renderConfigDocs();
    expect(text).toContain('| `assignment.sync_match` | `DISPATCH_SYNC_MATCH` |');
    expect(readFileSync(CONFIG_DOCS_FILE, 'utf8')).toBe(text);
  });
});
