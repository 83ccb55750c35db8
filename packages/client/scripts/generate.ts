// `npm run generate -w @dispatch/client` (or `npm run client:generate` at the root): the typed
// client's sources from the repository's openapi.yaml — src/generated/openapi.ts (openapi-typescript:
// `paths`, `operations`, `components`) and src/generated/admin-routes.ts (the operations whose
// security asks for the admin token). Formatted with the repository's Prettier config, so the
// drift check in test/client-generate.test.ts compares byte for byte. `-- --check` exits 1 when stale.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import * as yaml from 'js-yaml';

export const OPENAPI_FILE = fileURLToPath(new URL('../../../openapi.yaml', import.meta.url));
export const GENERATED_DIR = fileURLToPath(new URL('../src/generated/', import.meta.url));

const HEADER = '// Generated from openapi.yaml by packages/client/scripts/generate.ts — do not edit; run `npm run client:generate`.\n';

interface OpenapiDoc {
  paths: Record<string, Record<string, { security?: Array<Record<string, string[]>> }>>;
}

/** The generated files, by name, as they should be committed. */
export async function generateClientSources(openapiFile = OPENAPI_FILE): Promise<Record<string, string>> {
  const text = readFileSync(openapiFile, 'utf8');
  const ast = await openapiTS(text, { alphabetize: false, exportType: false });
  const types = `${HEADER}/* eslint-disable */\n${astToString(ast)}`;

  const doc = yaml.load(text) as OpenapiDoc;
  const admin: string[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if ((op.security ?? []).some((s) => 'adminToken' in s)) admin.push(`${method.toUpperCase()} ${p}`);
    }
  }
  const adminRoutes = `${HEADER}
/** "METHOD /path/{param}" of every operation that needs the admin token (security: adminToken). */
export const ADMIN_OPERATIONS: ReadonlySet<string> = new Set(${JSON.stringify(admin.sort())});
`;
  const format = async (name: string, source: string) => {
    const filepath = path.join(GENERATED_DIR, name);
    const options = (await prettier.resolveConfig(filepath)) ?? {};
    return prettier.format(source, { ...options, filepath });
  };
  return {
    'openapi.ts': await format('openapi.ts', types),
    'admin-routes.ts': await format('admin-routes.ts', adminRoutes),
  };
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const files = await generateClientSources();
  let stale = false;
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(GENERATED_DIR, name);
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (current === content) continue;
    stale = true;
    if (!check) {
      mkdirSync(GENERATED_DIR, { recursive: true });
      writeFileSync(file, content);
      console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
  }
  if (check && stale) {
    console.error('packages/client/src/generated is stale: run `npm run client:generate` and commit the result');
    process.exit(1);
  }
  if (!stale) console.log('packages/client/src/generated is up to date');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
