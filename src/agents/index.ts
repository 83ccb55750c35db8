// Builds the agent directory from configuration: each part comes from its neighbour when that
// neighbour's URL is set, else from the standalone roster (docs/scheduler.md "The agent directory").
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import type { Random } from '../ports.js';
import type { Signals } from '../signals.js';
import { AlexandriaClient } from '../clients/alexandria.js';
import { createHttpClient, type HttpClient } from '../clients/http.js';
import { PromptForgeClient } from '../clients/promptforge.js';
import { Roster } from '../clients/roster.js';
import { WarrenClient } from '../clients/warren.js';
import { AgentDirectory } from './directory.js';

export { AgentDirectory } from './directory.js';

export interface BuiltDirectory {
  directory: AgentDirectory;
  roster: Roster;
  /** Close the neighbours' connection pools. */
  close(): Promise<void>;
}

export function buildAgentDirectory(deps: { config: Config; logger: Logger; metrics: Metrics; random: Random; signals: Signals }): BuiltDirectory {
  const { config, metrics, random } = deps;
  const a = config.assignment;
  const clients: HttpClient[] = [];
  const http = (service: 'warren' | 'promptforge' | 'alexandria', baseUrl: string, headers?: Record<string, string>) => {
    const c = createHttpClient({ service, baseUrl, timeoutMs: a.neighbour_timeout_ms, metrics, random, ...(headers ? { headers } : {}) });
    clients.push(c);
    return c;
  };
  const roster = new Roster(config.agents);
  const capabilities = config.promptforge.url ? new PromptForgeClient(http('promptforge', config.promptforge.url)) : roster;
  const availability = config.warren.url
    ? new WarrenClient(http('warren', config.warren.url, config.warren.token ? { authorization: `Bearer ${config.warren.token}` } : {}))
    : roster;
  const ownership = config.alexandria.url ? new AlexandriaClient(http('alexandria', config.alexandria.url, { 'x-agent-id': 'dispatch' })) : roster;
  const directory = new AgentDirectory({
    capabilities,
    availability,
    ownership,
    logger: deps.logger,
    signals: deps.signals,
    capabilityRefreshMs: config.promptforge.refresh_interval_ms,
    ownershipTtlMs: config.alexandria.cache_ttl_ms,
    waitBudgetMs: a.neighbour_wait_ms,
    // Agent states older than this are not trusted: 3 ticks, at least 15 s.
    availabilityStaleMs: Math.max(3 * a.tick_interval_ms, 15_000),
    wakeHoldMs: a.wake_timeout_ms,
    rosterSize: config.agents.length,
  });
  return {
    directory,
    roster,
    close: async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
    },
  };
}
