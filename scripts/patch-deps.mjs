#!/usr/bin/env node
// postinstall: guard porsager/postgres 3.4.x against a write to a socket that already closed.
// Upstream bug (porsager/postgres issues 1066, 1154, 1208): a small write is deferred with
// setImmediate; if the connection closes first, nextWrite() dereferences a null socket and the
// TypeError escapes as an uncaughtException that kills the process (seen here on shutdown and
// after pg_terminate_backend). closed() has already rejected the affected queries, so the
// deferred write is moot: drop it. Idempotent; a no-op once upstream ships the guard.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let root = path.dirname(require.resolve('postgres'));
const isPackageRoot = (dir) =>
  existsSync(path.join(dir, 'package.json')) && JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'postgres';
while (!isPackageRoot(root)) root = path.dirname(root);
const MARK = '/* dispatch: null-socket guard */';
for (const rel of ['src/connection.js', 'cjs/src/connection.js']) {
  const file = path.join(root, rel);
  if (!existsSync(file)) continue;
  const src = readFileSync(file, 'utf8');
  if (src.includes(MARK)) continue;
  const needle = '  function nextWrite(fn) {\n';
  if (!src.includes(needle)) {
    console.warn(`patch-deps: ${rel} has no nextWrite() to guard; skipped`);
    continue;
  }
  const guard = `${needle}    ${MARK}\n    if (!socket) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      return false\n    }\n`;
  writeFileSync(file, src.replace(needle, guard));
  console.log(`patch-deps: guarded postgres/${rel} nextWrite()`);
}
