// Fake PromptForge speaking docs/scheduler.md "The agent directory":
//   GET /api/v1/prompts?type=persona            → [{id, slug, name, type, description, tags}]
//   GET /api/v1/prompts/{slug}/versions/latest  → {version, content: {sections: [{id, content}]}}
import { FakeServer, type Call, type Reply } from './base.js';

export interface FakePersona {
  name?: string;
  /** The "capabilities" section text, e.g. "research, analysis"; null: the persona has no such section. */
  capabilities: string | null;
}

export class FakePromptForge extends FakeServer {
  readonly personas = new Map<string, FakePersona>();
  /** Non-persona prompts also listed (only served when the query does not ask for personas). */
  readonly otherPrompts = [{ id: 'p-sys', slug: 'system-base', name: 'System base', type: 'system', description: '', tags: [] }];

  constructor() {
    super('promptforge', (c) => this.route(c));
  }

  /** Add or replace a persona; `caps` as a list is joined with ", ". */
  setPersona(slug: string, caps: string[] | string | null, name?: string): void {
    this.personas.set(slug, { name: name ?? slug, capabilities: Array.isArray(caps) ? caps.join(', ') : caps });
  }

  private route(c: Call): Reply | undefined {
    if (c.method !== 'GET') return undefined;
    if (c.path === '/api/v1/prompts') {
      const type = c.query.get('type');
      const personas = [...this.personas].map(([slug, p], i) => ({
        id: `persona-${i}`,
        slug,
        name: p.name ?? slug,
        type: 'persona',
        description: `${slug} persona`,
        tags: ['persona'],
      }));
      return { status: 200, body: type === 'persona' ? personas : [...personas, ...this.otherPrompts] };
    }
    const m = /^\/api\/v1\/prompts\/([^/]+)\/versions\/latest$/.exec(c.path);
    if (m) {
      const slug = decodeURIComponent(m[1]!);
      const p = this.personas.get(slug);
      if (!p) return { status: 404, body: { error: 'prompt not found' } };
      const sections = [{ id: 'identity', content: `You are ${p.name}.` }];
      if (p.capabilities !== null) sections.push({ id: 'capabilities', content: p.capabilities });
      return { status: 200, body: { version: 3, content: { sections } } };
    }
    return undefined;
  }

  static async start(): Promise<FakePromptForge> {
    return new FakePromptForge().listen();
  }
}
