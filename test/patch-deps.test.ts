// The postgres driver's patches (scripts/patch-deps.mjs: the null-socket guard, one pass over the
// hosts, read-write refusing a standby, a query's settle functions as methods, a closed session
// failing its queries — test/pg-driver-terminated.test.ts runs that one): the installed
// driver carries them in both builds, and the pin in package.json is exact, so an upgrade is a
// decision, not a surprise.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const MARKS = [
  '/* dispatch: null-socket guard */',
  '/* dispatch: one pass over the hosts */',
  '/* dispatch: read-write is not a standby */',
  '/* dispatch: a closed session fails its queries */',
];

/** The installed driver's package root: up from its entry point (its exports do not include package.json). */
function driverRoot(): string {
  let root = path.dirname(require.resolve('postgres'));
  const isRoot = (dir: string) =>
    existsSync(path.join(dir, 'package.json')) && readFileSync(path.join(dir, 'package.json'), 'utf8').includes('"name": "postgres"');
  while (!isRoot(root)) root = path.dirname(root);
  return root;
}

type QueryClass = new (
  strings: string[],
  args: unknown[],
  handler: (q: unknown) => void,
  canceller: () => void,
) => Promise<unknown> & {
  resolve(x: unknown): void;
  reject(e: unknown): void;
  active: boolean;
};

describe('the postgres driver patches', () => {
  it('settle a query through prototype methods, no closures per query (ESM and CJS builds)', async () => {
    const root = driverRoot();
    const esm = ((await import(pathToFileURL(path.join(root, 'src/query.js')).href)) as { Query: QueryClass }).Query;
    const cjs = (require(path.join(root, 'cjs/src/query.js')) as { Query: QueryClass }).Query;
    for (const Query of [esm, cjs]) {
      const strings = Object.assign(['select 1'], { raw: ['select 1'] });
      const ran: unknown[] = [];
      const ok = new Query(
        strings,
        [],
        (q) => ran.push(q),
        () => {},
      );
      expect(Object.hasOwn(ok, 'resolve') || Object.hasOwn(ok, 'reject')).toBe(false);
      ok.active = true;
      ok.resolve(7);
      expect(ok.active).toBe(false);
      await expect(ok).resolves.toBe(7);
      expect(ran).toEqual([ok]); // awaiting it handed it to the pool, as before
      const failed = new Query(
        strings,
        [],
        () => {},
        () => {},
      );
      failed.active = true;
      failed.reject(new Error('boom'));
      expect(failed.active).toBe(false);
      await expect(failed).rejects.toThrow('boom');
    }
  });

  it('are applied to the installed driver (ESM and CJS builds), whose version is the pinned one', () => {
    const root = driverRoot();
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
    for (const rel of ['src/query.js', 'cjs/src/query.js']) {
      expect(readFileSync(path.join(root, rel), 'utf8'), rel).toContain('/* dispatch: settle methods */');
    }
  });
});
