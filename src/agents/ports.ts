// The three things Dispatch needs to know about agents, each answered by a neighbour
// (PromptForge, Warren, Alexandria — src/clients/) or by the standalone roster (clients/roster.ts).

import type { AgentEndpoint } from '../config.js';

/** What the capability source knows of one agent; `endpoint` makes it an endpoint agent (§18.2). */
export interface AgentFacts {
  name: string;
  capabilities: string[];
  endpoint?: AgentEndpoint;
}

/** PromptForge: which agents exist and what they can do. */
export interface CapabilitySource {
  readonly name: 'promptforge' | 'roster';
  /** Every agent with its lower-case capability tags. A full refresh; may be slow. */
  listCapabilities(): Promise<Map<string, AgentFacts>>;
}

/** Warren: each agent's state, and waking a sleeping one. */
export interface AvailabilitySource {
  readonly name: 'warren' | 'roster';
  /** agent id → state (ready | sleeping | starting | degraded | …). */
  listStates(): Promise<Map<string, string>>;
  /** Ask the agent to wake; resolves when the request was accepted (the wake itself is asynchronous). */
  wake(agent: string): Promise<void>;
}

/** Alexandria: which agents an owner holds. */
export interface OwnershipSource {
  readonly name: 'alexandria' | 'roster';
  agentsOf(owner: string): Promise<Set<string>>;
}
