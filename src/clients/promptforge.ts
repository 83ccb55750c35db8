// PromptForge (docs/scheduler.md "The agent directory"): personas and their "capabilities" section.
//   GET /api/v1/prompts?type=persona               → [{id, slug, name, type, …}]
//   GET /api/v1/prompts/{slug}/versions/latest     → {version, content: {sections: [{id, content}]}}
import type { AgentFacts, CapabilitySource } from '../agents/ports.js';
import type { AgentEndpoint } from '../config.js';
import { expectShape, UpstreamError, type HttpClient } from './http.js';
import { isObject } from '../core/ids.js';

/** Personas' latest versions are fetched this many at a time. */
const FETCH_CONCURRENCY = 8;

/** "research, Analysis ,, web-search" → ["research", "analysis", "web-search"] */
export function parseCapabilities(content: string): string[] {
  return [
    ...new Set(
      content
        .split(',')
        .map((t) => t.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
}

/** A persona's `endpoint: {url, credential?}` (§18.2): an absolute http(s) url, else none. */
export function endpointOf(v: unknown): AgentEndpoint | undefined {
  if (!isObject(v) || typeof v.url !== 'string' || !/^https?:\/\//i.test(v.url)) return undefined;
  try {
    new URL(v.url);
  } catch {
    return undefined;
  }
  return { url: v.url, ...(typeof v.credential === 'string' && v.credential !== '' ? { credential: v.credential } : {}) };
}

export class PromptForgeClient implements CapabilitySource {
  readonly name = 'promptforge' as const;
  constructor(private readonly http: HttpClient) {}

  async listCapabilities(): Promise<Map<string, AgentFacts>> {
    const list = await this.http.getJson('/api/v1/prompts?type=persona');
    expectShape('promptforge', Array.isArray(list), 'persona list is not an array');
    const personas = (list as unknown[]).filter((p): p is Record<string, unknown> => isObject(p) && p.type === 'persona');
    for (const p of personas) expectShape('promptforge', typeof p.slug === 'string' && p.slug !== '', 'persona without a slug');
    const out = new Map<string, AgentFacts>();
    let next = 0;
    const worker = async () => {
      while (next < personas.length) {
        const p = personas[next++]!;
        const slug = p.slug as string;
        const endpoint = endpointOf(p.endpoint);
        out.set(slug, { name: typeof p.name === 'string' ? p.name : slug, capabilities: await this.capabilitiesOf(slug), ...(endpoint ? { endpoint } : {}) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, personas.length) }, worker));
    return out;
  }

  private async capabilitiesOf(slug: string): Promise<string[]> {
    let v: unknown;
    try {
      v = await this.http.getJson(`/api/v1/prompts/${encodeURIComponent(slug)}/versions/latest`);
    } catch (err) {
      if (err instanceof UpstreamError && err.kind === 'not_found') return []; // persona with no version yet
      throw err;
    }
    expectShape('promptforge', isObject(v) && isObject(v.content), `latest version of ${slug} has no content object`);
    const sections = (v as { content: { sections?: unknown } }).content.sections;
    if (sections === undefined) return [];
    expectShape('promptforge', Array.isArray(sections), `sections of ${slug} is not an array`);
    const caps = (sections as unknown[]).find((s) => isObject(s) && s.id === 'capabilities') as Record<string, unknown> | undefined;
    if (!caps) return [];
    expectShape('promptforge', typeof caps.content === 'string', `capabilities section of ${slug} is not text`);
    return parseCapabilities(caps.content as string);
  }
}
