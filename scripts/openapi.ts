// `npm run openapi` writes openapi.yaml from the route schemas: it builds the API server the way
// the service does (createDispatch) without listening or touching a database, and dumps what
// GET /openapi.yaml serves. `npm run openapi -- --check` exits 1 when the committed file differs.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import * as yaml from 'js-yaml';
import { createDispatch } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { connect } from '../src/store/db.js';

export const OPENAPI_FILE = fileURLToPath(new URL('../openapi.yaml', import.meta.url));

/** The OpenAPI document as YAML, exactly as GET /openapi.yaml serves it. */
export async function renderOpenapi(): Promise<string> {
  // Nothing connects: postgres.js opens connections lazily, on the first query.
  const sql = connect('postgres://openapi@127.0.0.1:1/openapi', { max: 1 });
  const config = loadConfig({ file: null, env: {}, overrides: { logging: { level: 'silent' }, agents: [] } });
  const dispatch = await createDispatch({ config, sql, logger: pino({ level: 'silent' }) });
  try {
    await dispatch.api.ready();
    return yaml.dump(dispatch.api.swagger(), { noRefs: true, lineWidth: 120 });
  } finally {
    await dispatch.api.close();
    await dispatch.ops.close();
    await sql.end({ timeout: 0 });
  }
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const doc = await renderOpenapi();
  if (check) {
    const current = existsSync(OPENAPI_FILE) ? readFileSync(OPENAPI_FILE, 'utf8') : '';
    if (current !== doc) {
      console.error('openapi.yaml is stale: run `npm run openapi` and commit the result');
      process.exit(1);
    }
    console.log('openapi.yaml is up to date');
    return;
  }
  writeFileSync(OPENAPI_FILE, doc);
  console.log(`wrote ${OPENAPI_FILE}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
