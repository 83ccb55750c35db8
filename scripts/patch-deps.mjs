#!/usr/bin/env node
// postinstall: guard porsager/postgres 3.4.x against a write to a socket that already closed.
// Upstream bug (porsager/postgres issues 1066, 1154, 1208): a small write is deferred with
// setImmediate; if the connection closes first, nextWrite() dereferences a null socket and the
// TypeError escapes as an uncaughtException that kills the process (seen here on shutdown and
// after pg_terminate_backend). closed() has already rejected the affected queries, so the
// deferred write is moot: drop it. Idempotent.
//
// package.json pins postgres exactly (3.4.9), so this patch meets the code it was written for. When
// the code differs (a new version), the install FAILS, naming the file: re-check the upstream
// issue, then adapt or drop this patch and the pin together. test/patch-deps.test.ts checks that the
// installed driver carries the guard.
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
  if (!existsSync(file)) {
    console.error(`patch-deps: postgres/${rel} is missing; the installed driver is not the one this patch was written for`);
    process.exit(1);
  }
  const src = readFileSync(file, 'utf8');
  if (src.includes(MARK)) continue;
  const needle = '  function nextWrite(fn) {\n';
  if (!src.includes(needle)) {
    console.error(
      `patch-deps: postgres/${rel} has no nextWrite() as 3.4.9 has it, so the null-socket guard cannot be applied. ` +
        'Check porsager/postgres issues 1066/1154/1208 for the installed version, then adapt scripts/patch-deps.mjs and the exact pin in package.json.',
    );
    process.exit(1);
  }
  const guard = `${needle}    ${MARK}\n    if (!socket) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      return false\n    }\n`;
  writeFileSync(file, src.replace(needle, guard));
  console.log(`patch-deps: guarded postgres/${rel} nextWrite()`);
}
