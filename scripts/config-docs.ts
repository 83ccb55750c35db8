// `npm run config:docs` writes docs/config.md from the configuration schema (src/config.ts): every
// key with its environment variable, default and doc, so the table cannot drift from what the
// service validates. `--check` exits 1 when the committed file differs; test/config.test.ts checks
// it too.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../src/config.js';

export const CONFIG_DOCS_FILE = fileURLToPath(new URL('../docs/config.md', import.meta.url));

interface Leaf {
  doc?: string;
  default?: unknown;
  env?: string;
  sensitive?: boolean;
}

const isLeaf = (v: unknown): v is Leaf => typeof v === 'object' && v !== null && 'default' in v;

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function shown(v: unknown): string {
  if (v === '') return '""';
  if (Array.isArray(v)) return v.length === 0 ? '[]' : `${v.length} entries`;
  if (typeof v === 'object' && v !== null) return Object.keys(v).length === 0 ? '{}' : 'see config.yaml';
  return String(v);
}

export function renderConfigDocs(): string {
  const rows: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (isLeaf(v)) {
        const doc = `${v.doc ?? ''}${v.sensitive ? ' (secret: never logged)' : ''}`;
        rows.push(`| \`${key}\` | ${v.env ? `\`${v.env}\`` : ''} | \`${cell(shown(v.default))}\` | ${cell(doc)} |`);
      } else if (typeof v === 'object' && v !== null) {
        walk(v as Record<string, unknown>, key);
      }
    }
  };
  walk(configSchema as unknown as Record<string, unknown>, '');
  return [
    '# Configuration',
    '',
    'Generated from the schema in `src/config.ts` by `npm run config:docs`; do not edit by hand.',
    '',
    '`config.yaml` (or the file named by `DISPATCH_CONFIG`) is validated at start: every problem is',
    'listed and the process exits with status 2. Environment variables override the file.',
    '',
    '| Key | Env | Default | Meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const text = renderConfigDocs();
  if (process.argv.includes('--check')) {
    if (!existsSync(CONFIG_DOCS_FILE) || readFileSync(CONFIG_DOCS_FILE, 'utf8') !== text) {
      console.error('docs/config.md is stale: run `npm run config:docs`');
      process.exitCode = 1;
    }
  } else {
    writeFileSync(CONFIG_DOCS_FILE, text);
    console.log('wrote docs/config.md');
  }
}
