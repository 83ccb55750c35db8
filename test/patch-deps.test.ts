// The postgres driver's patches (scripts/patch-deps.mjs: the null-socket guard, one pass over the
// hosts, read-write refusing a standby): the installed driver carries them in both builds, and the
// pin in package.json is exact, so an upgrade is a decision, not a surprise.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const MARKS = ['/* dispatch: null-socket guard */', '/* dispatch: one pass over the hosts */', '/* dispatch: read-write is not a standby */'];

describe('the postgres driver patches', () => {
  it('are applied to the installed driver (ESM and CJS builds), whose version is the pinned one', () => {
    // The package's root: up from its entry point (its exports do not include package.json).
    let root = path.dirname(require.resolve('postgres'));
    const isRoot = (dir: string) =>
      existsSync(path.join(dir, 'package.json')) && readFileSync(path.join(dir, 'package.json'), 'utf8').includes('"name": "postgres"');
    while (!isRoot(root)) root = path.dirname(root);
    const pkgPath = path.join(root, 'package.json');
    const pinned = (JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }).dependencies.postgres;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect((JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version).toBe(pinned);
    for (const rel of ['src/connection.js', 'cjs/src/connection.js']) {
      const src = readFileSync(path.join(root, rel), 'utf8');
      const at = src.indexOf('function nextWrite(fn) {');
      expect(at, rel).toBeGreaterThan(-1);
      // The guard is the first thing nextWrite does.
      expect(src.slice(at, at + 120), rel).toContain(MARKS[0]);
      for (const mark of MARKS) expect(src, `${rel}: ${mark}`).toContain(mark);
    }
  });
});
