// http_work (CONTRACT §18.1, docs/calls.md): defaults, credentials from the file and the
// environment (WORDWARE_API_KEY as `wordware`), secrets redacted, endpoint agents in the roster.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactedConfig } from '../src/config.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('http_work', () => {
  it('has the contract defaults', () => {
    expect(loadConfig({ file: null, env: {} }).http_work).toEqual({
      base_url: '',
      service_token: '',
      credentials: {},
      allowed_hosts: [],
      max_in_flight: 64,
      per_host: 16,
    });
  });

  it('takes credentials from the file and the environment; WORDWARE_API_KEY is `wordware` unless set; secrets are redacted', () => {
    const c = loadConfig({
      file: null,
      env: {
        DISPATCH_HTTP_WORK_BASE_URL: 'https://edge.example',
        DISPATCH_HTTP_WORK_SERVICE_TOKEN: 'jwt-secret',
        DISPATCH_HTTP_WORK_CREDENTIAL_EDGE_FN: 'from-env',
        DISPATCH_HTTP_WORK_CREDENTIAL_OPENAI: 'sk-env',
        WORDWARE_API_KEY: 'ww-key',
      },
      overrides: { http_work: { credentials: { 'edge-fn': 'from-file', kept: 'k' } } },
    });
    expect(c.http_work.base_url).toBe('https://edge.example');
    expect(c.http_work.service_token).toBe('jwt-secret');
    expect(c.http_work.credentials).toEqual({ 'edge-fn': 'from-env', kept: 'k', openai: 'sk-env', wordware: 'ww-key' });
    const explicit = loadConfig({ file: null, env: { WORDWARE_API_KEY: 'ww-key', DISPATCH_HTTP_WORK_CREDENTIAL_WORDWARE: 'mine' } });
    expect(explicit.http_work.credentials).toEqual({ wordware: 'mine' });
    const shown = JSON.stringify(redactedConfig(c));
    for (const secret of ['jwt-secret', 'from-env', 'sk-env', 'ww-key', '"k"']) expect(shown).not.toContain(secret);
  });

  it('lists every problem: a bad credential, a bad base_url, limits, a roster endpoint with an unknown credential or a bad url', () => {
    const problems = problemsOf(() =>
      loadConfig({
        file: null,
        env: {},
        overrides: {
          http_work: { base_url: 'ftp://x', credentials: { 'bad name': 's', n: 5 }, max_in_flight: 0 },
          agents: [{ id: 'pusher', endpoint: { url: 'http://127.0.0.1:9/x', credential: 'missing' } }],
        },
      }),
    ).join('\n');
    expect(problems).toMatch(/base_url/);
    expect(problems).toMatch(/max_in_flight/);
    expect(problems).toMatch(/"bad name"/);
    expect(problems).toMatch(/credentials\.n: must be a string/);
    expect(problems).toMatch(/agents\[0\]\.endpoint\.credential "missing"/);
    expect(problemsOf(() => loadConfig({ file: null, env: {}, overrides: { agents: [{ id: 'p', endpoint: { url: 'nope' } }] } })).join('\n')).toMatch(
      /endpoint\.url/,
    );
    const ok = loadConfig({ file: null, env: {}, overrides: { agents: [{ id: 'p', endpoint: { url: 'http://127.0.0.1:9/x', credential: 'wordware' } }] } });
    expect(ok.agents[0]!.endpoint).toEqual({ url: 'http://127.0.0.1:9/x', credential: 'wordware' });
  });
});
