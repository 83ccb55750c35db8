#!/usr/bin/env node
// postinstall: five fixes to porsager/postgres 3.4.9, each idempotent. package.json pins postgres
// exactly, so these patches meet the code they were written for; when the code differs (a new
// version), the install FAILS, naming the file and the patch: re-check the upstream issues below,
// then adapt or drop the patch and the pin together. test/patch-deps.test.ts checks that the
// installed driver carries every patch.
//
// 1. A write to a socket that already closed. Upstream bug (porsager/postgres issues 1066, 1154,
//    1208): a small write is deferred with setImmediate; if the connection closes first,
//    nextWrite() dereferences a null socket and the TypeError escapes as an uncaughtException that
//    kills the process (seen here on shutdown and after pg_terminate_backend). closed() has already
//    rejected the affected queries, so the deferred write is moot: drop it.
//
// 2. Multi-host URLs (`postgres://h1,h2/db?target_session_attrs=read-write`, CONTRACT §23).
//    Upstream bug (porsager/postgres issue 1174, pull requests 1175 and 1188): the per-connection
//    `retries` counter is never incremented, so with two or more hosts every connect error is
//    swallowed as "another host to try" and the connection cycles through the hosts forever, with
//    no delay: while no host is a writable primary (the primary dead, the standby not promoted
//    yet) every query hangs and the process burns a core (measured: 0.9 s of CPU in 5 s with two
//    refused ports). Fixed the way those pull requests do: a connection attempt makes one pass
//    over the hosts (retries counted per attempt), then fails its query like a single host does
//    (ECONNREFUSED, CONNECTION_DESTROYED for a read-only server, ...), and the pool's usual
//    backoff applies to the next attempt; a connect timeout moves on to the next host too.
//
// 3. target_session_attrs=read-write accepts a hot standby. postgres.js decides on the
//    ParameterStatus values a server reports, and a standby of Postgres 14+ reports
//    in_hot_standby=on but default_transaction_read_only=off, which read-write alone looks at:
//    the pool connects to the standby and every write fails with 25006 (seen in the failover
//    test, and in porsager/postgres issue 815's comments). libpq's read-write also refuses a
//    server in hot standby; so does this.
//
// 4. Every query survives a young-generation GC (a performance fix, issue #23; no upstream issue
//    found). Query's constructor gives each instance two arrow functions, `resolve` and `reject`,
//    closing over the constructor's context; and Query, a Promise subclass, defines
//    Symbol.species. With both, V8 (Node 20) keeps each Query — fragments that are never run
//    included, and whatever they hold: their arguments, rows as JSON — alive through the next
//    scavenge and promotes it to the old generation (`node scripts/profile/query-promotion.mjs`:
//    a loop building unexecuted queries promotes ~36 % of what it allocates, ~2 % patched).
//    Dispatch builds a dozen fragments per statement: at 200 tasks/s, ~770 KB of the ~6 MB each
//    scavenge collected was promoted, 40 KB patched (docs/benchmarks.md run 18). The
//    two become prototype methods over the promise's own settle functions; the places that
//    assign an instance's own `resolve`/`reject` (cursors, the array-types query) still shadow them.
//
// 5. A session the server ends under a running query (pg_terminate_backend, a failover's kill, a
//    restart). No upstream issue found; test/pg-driver-terminated.test.ts fails without it. Two
//    faults, both seen as test/failover-hosts.test.ts's rare "LISTEN connection to come back"
//    timeout (reproduced under CPU load, traced through the driver):
//    - The query's ErrorResponse (57P01) and the query itself outlive the socket. The next
//      session's startup ReadyForQuery settles that stale query and fails the connection's next
//      query with the stale error, though it never ran: after any such termination the next query
//      on that connection fails (one host or several), and a re-LISTEN after a reconnect failed
//      that way, silently, so the channel was never listened to again.
//    - With several hosts, error() treats a close while the connection is still in the pool's
//      `connecting` queue as "another host to try" and returns, but the connection stays there
//      until its first query has finished: a close under that first query neither failed nor
//      retried it: it waited for the next session's startup, which settled it with the old
//      session's error or, when none had arrived, as if it had run with no rows (read from the
//      code; the test sees it never settle when no next session comes).
//    The fix: the "next host" early return applies only while the startup itself runs (its first
//    query not yet sent), and closed() clears the query state once it has failed what was in flight.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
let root = path.dirname(require.resolve('postgres'));
const isPackageRoot = (dir) =>
  existsSync(path.join(dir, 'package.json')) && JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).name === 'postgres';
while (!isPackageRoot(root)) root = path.dirname(root);
const PATCHES = [
  {
    file: 'connection.js',
    mark: '/* dispatch: null-socket guard */',
    what: 'guarded nextWrite()',
    edits: [
      [
        '  function nextWrite(fn) {\n',
        '  function nextWrite(fn) {\n    /* dispatch: null-socket guard */\n    if (!socket) {\n      nextWriteTimer !== null && clearImmediate(nextWriteTimer)\n      chunk = nextWriteTimer = null\n      return false\n    }\n',
      ],
    ],
  },
  {
    file: 'connection.js',
    mark: '/* dispatch: one pass over the hosts */',
    what: 'one pass over the hosts per connection attempt',
    edits: [
      [
        '    connect(query) {\n      initial = query\n      reconnect()\n',
        '    connect(query) {\n      initial = query\n      retries = 0 /* dispatch: one pass over the hosts */\n      reconnect()\n',
      ],
      [
        '    if (initial)\n      return reconnect()\n',
        "    if (initial) {\n      if (options.host[++retries])\n        return reconnect()\n      hadError = true\n      errored(Errors.connection('CONNECTION_CLOSED', options))\n    }\n",
      ],
      ["    errored(Errors.connection('CONNECT_TIMEOUT', options, socket))\n", "    error(Errors.connection('CONNECT_TIMEOUT', options, socket))\n"],
    ],
  },
  {
    file: 'connection.js',
    mark: '/* dispatch: read-write is not a standby */',
    what: 'target_session_attrs=read-write refuses a hot standby',
    edits: [
      [
        "      (x === 'read-write' && xs.default_transaction_read_only === 'on') ||\n",
        "      (x === 'read-write' && (xs.default_transaction_read_only === 'on' || xs.in_hot_standby === 'on')) || /* dispatch: read-write is not a standby */\n",
      ],
    ],
  },
  {
    file: 'connection.js',
    mark: '/* dispatch: a closed session fails its queries */',
    what: "a session's close fails its running query and leaves nothing for the next session",
    edits: [
      [
        '  function error(err) {\n    if (connection.queue === queues.connecting && options.host[retries + 1])\n',
        '  function error(err) {\n    if (initial && connection.queue === queues.connecting && options.host[retries + 1]) /* dispatch: a closed session fails its queries */\n',
      ],
      [
        '    if (initial) {\n      if (options.host[++retries])\n        return reconnect()\n',
        '    if (initial) {\n      query = errorResponse = results = null\n      if (options.host[++retries])\n        return reconnect()\n',
      ],
      [
        "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n",
        "    !hadError && (query || sent.length) && error(Errors.connection('CONNECTION_CLOSED', options, socket))\n    query = errorResponse = results = null\n",
      ],
    ],
  },
  {
    file: 'query.js',
    mark: '/* dispatch: settle methods */',
    what: "a query's resolve and reject as methods, not closures per query",
    edits: [
      [
        '    this.resolve = x => (this.active = false, resolve(x))\n    this.reject = x => (this.active = false, reject(x))\n',
        '    this.settle = { resolve, reject } /* dispatch: settle methods */\n',
      ],
      [
        '  get origin() {\n',
        '  resolve(x) {\n    this.active = false\n    this.settle.resolve(x)\n  }\n\n  reject(x) {\n    this.active = false\n    this.settle.reject(x)\n  }\n\n  get origin() {\n',
      ],
    ],
  },
];
for (const rel of ['src/connection.js', 'cjs/src/connection.js', 'src/query.js', 'cjs/src/query.js']) {
  const file = path.join(root, rel);
  if (!existsSync(file)) {
    console.error(`patch-deps: postgres/${rel} is missing; the installed driver is not the one these patches were written for`);
    process.exit(1);
  }
  let src = readFileSync(file, 'utf8');
  for (const p of PATCHES.filter((x) => rel.endsWith(`/${x.file}`))) {
    if (src.includes(p.mark)) continue;
    const missing = p.edits.filter(([from]) => !src.includes(from));
    if (missing.length > 0) {
      console.error(
        `patch-deps: postgres/${rel} does not have the code to patch (${p.what}) as 3.4.9 has it. ` +
          'Check the upstream issues named at the top of scripts/patch-deps.mjs for the installed version, then adapt this script and the exact pin in package.json.',
      );
      process.exit(1);
    }
    for (const [from, to] of p.edits) src = src.replace(from, to);
    writeFileSync(file, src);
    console.log(`patch-deps: postgres/${rel}: ${p.what}`);
  }
}
