// The only file that builds real connections: config → database → migrations → service.
import { ConfigError, loadConfig, redactedConfig, type Config } from './config.js';
import { createDispatch } from './app.js';
import { createLogger } from './observability/logger.js';
import { connect, migrate, MigrationError } from './store/db.js';
import { DefinitionFilesError } from './errors.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './store/embedded.js';

const SHUTDOWN_GRACE_MS = 10_000;
/** The scheduler (at most two statements at once) and the relay (one batch at a time), plus one spare. */
const BACKGROUND_POOL_SIZE = 4;

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dispatch: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logging.level, config.logging.format);
  log.info({ config: redactedConfig(config) }, 'configuration loaded');

  let embedded: EmbeddedDatabase | undefined;
  let url = config.database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres(config.database.data_dir, log.child({ component: 'embedded-postgres' }));
    url = embedded.url;
  }
  const sql = connect(url, { max: config.database.pool_size });
  const backgroundSql = connect(url, { max: BACKGROUND_POOL_SIZE });
  let stopping = false;
  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      log.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    try {
      await app?.stop();
      await sql.end({ timeout: 5 });
      await backgroundSql.end({ timeout: 5 });
      await embedded?.stop();
    } catch (err) {
      log.error({ err }, 'error during shutdown');
      code = 1;
    }
    log.flush?.();
    process.exit(code);
  };
  // embedded-postgres (through async-exit-hook) installs signal handlers at import that stop
  // Postgres and exit(143) at once, racing our orderly shutdown: ours replace them.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.removeAllListeners(sig);
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  let app: Awaited<ReturnType<typeof createDispatch>> | undefined;
  try {
    await migrate(sql, log.child({ component: 'migrations' }));
    app = await createDispatch({ config, sql, backgroundSql, logger: log });
    await app.start();
  } catch (err) {
    if (err instanceof MigrationError || err instanceof DefinitionFilesError) {
      // An operator's problem, not a bug: say what to do, without a stack, and exit 2 like a
      // ConfigError (after stopping embedded Postgres and the pools).
      process.stderr.write(`dispatch: ${err.message}\n`);
      log.fatal(err instanceof MigrationError ? err.details : { dir: err.dir, problems: err.problems }, err.message.split('\n')[0]!);
      await shutdown('startup-failure', 2);
      return;
    }
    log.fatal({ err }, 'failed to start');
    await shutdown('startup-failure', 1);
  }
}

main().catch((err) => {
  process.stderr.write(`dispatch: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
