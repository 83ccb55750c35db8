// What the composition root (app.ts) hands to the parts it wires: the shared context (and, re-exported,
// the Component lifecycle of component.ts). It imports only types of modules that do not import it,
// so no part and the context import each other; app.ts builds every field before the context.
import type { Logger } from 'pino';
import type { AgentDirectory } from './agents/directory.js';
import type { AgentSlots } from './agents/slots.js';
import type { Config } from './config.js';
import type { Waiting } from './waiting/index.js';
import type { Metrics } from './observability/metrics.js';
import type { Clock, HealthCheck, Random } from './ports.js';
import type { Signals } from './signals.js';
import type { Sql } from './store/db.js';
import type { RowVersions } from './store/versions.js';
import type { CreateWrites, ReportWrites } from './services/group-commit.js';
import type { TokenAuthenticator } from './services/tokens.js';
import type { Heartbeats } from './services/heartbeats.js';

export type { Component } from './component.js';

/** Everything createDispatch builds once; each part takes only the fields it uses (Pick<…>). */
export interface DispatchContext {
  config: Config;
  sql: Sql;
  logger: Logger;
  clock: Clock;
  random: Random;
  metrics: Metrics;
  signals: Signals;
  /** Checks reported by /health; components add theirs when they are created. */
  health: HealthCheck[];
  /** Who the agents are, what they can do, their state and owners (cached neighbours' view). */
  agents: AgentDirectory;
  /** The agents' load as this replica knows it between ticks: the create's sync match (§17). */
  slots: AgentSlots;
  /** Active rows this replica wrote last, with their versions: a report compare-and-sets without a read first. */
  versions: RowVersions;
  /** Worker reports' compare-and-sets, grouped while one is in flight (group commit). */
  reports: ReportWrites;
  /** Plain creates' inserts, grouped while one is in flight (group commit). */
  creates: CreateWrites;
  /** Agent tokens: who a bearer token is (auth.mode=token), dropped from cache on revoke. */
  tokens: TokenAuthenticator;
  /** Held long-polls and awaits, and the SSE streams of this replica (docs/waiting.md). */
  waiting: Waiting;
  /** Heartbeats buffered for their coalesced write (services/heartbeats.ts). */
  heartbeats: Heartbeats;
}

/** What the use cases in services/ need: the request-path pool and the shared services. */
export type ServiceContext = Pick<
  DispatchContext,
  'config' | 'sql' | 'logger' | 'clock' | 'random' | 'metrics' | 'signals' | 'agents' | 'slots' | 'versions' | 'reports' | 'creates'
>;
