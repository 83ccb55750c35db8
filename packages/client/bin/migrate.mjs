// `dispatch migrate`: apply the service's migrations to its database and exit, with the service's
// own config loading, embedded Postgres and migrate() (run from a Dispatch checkout; cwd = its root).
// argv: <root> <src|dist>. Exit 0 applied (or nothing to apply), 2 config or migration refusal, 1 otherwise.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [root, flavour] = process.argv.slice(2);
const base = `${pathToFileURL(path.join(root, flavour)).href}/`;
const load = (file) => import(new URL(file, base).href);

const { loadConfig, ConfigError } = await load('config.js');
const { connect, migrate, MigrationError } = await load('store/db.js');
const { startEmbeddedPostgres } = await load('store/embedded.js');
const { createLogger } = await load('observability/logger.js');

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`dispatch: ${err.message}\n`);
  process.exit(2);
}
const log = createLogger(config.logging.level, config.logging.format);
let embedded;
let url = config.database.url;
if (!url) {
  embedded = await startEmbeddedPostgres(config.database.data_dir, log.child({ component: 'embedded-postgres' }));
  url = embedded.url;
}
const sql = connect(url, { max: 1 });
let code = 0;
try {
  const applied = await migrate(sql, log.child({ component: 'migrations' }));
  process.stdout.write(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'migrations up to date\n');
} catch (err) {
  process.stderr.write(`dispatch: ${err.message}\n`);
  code = err instanceof MigrationError ? 2 : 1;
} finally {
  await sql.end({ timeout: 5 });
  await embedded?.stop();
}
process.exit(code);
