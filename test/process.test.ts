// The service as a user runs it: `npm start` on embedded Postgres, SIGTERM, a second start.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { freePort } from '../src/store/embedded.js';

async function waitHealthy(url: string, timeoutMs: number): Promise<any> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await request(url);
      const body = await res.body.json();
      if (res.statusCode === 200) return body;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} never became healthy`);
}

function postgresRunningIn(dir: string): boolean {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').some((l) => l.includes('postgres') && l.includes(dir));
}

describe('process', () => {
  it('starts on embedded Postgres, exits 0 on SIGTERM leaving no Postgres, and reuses its data', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dispatch-proc-'));
    chmodSync(dir, 0o755);
    const cfg = path.join(dir, 'config.yaml');
    writeFileSync(cfg, 'agents:\n  - { id: scout, capabilities: [research] }\n');
    for (let run = 0; run < 2; run++) {
      const [port, metrics] = [await freePort(), await freePort()];
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          DISPATCH_CONFIG: cfg,
          DISPATCH_DATA_DIR: path.join(dir, 'data'),
          DISPATCH_PORT: String(port),
          DISPATCH_METRICS_PORT: String(metrics),
          DISPATCH_HOST: '127.0.0.1',
          DISPATCH_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const health = await waitHealthy(`http://127.0.0.1:${metrics}/health`, 45_000);
      expect(health.checks.database).toBe('ok');
      expect(postgresRunningIn(path.join(dir, 'data'))).toBe(true);
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
      expect(postgresRunningIn(path.join(dir, 'data'))).toBe(false);
    }
  }, 120_000);
});
