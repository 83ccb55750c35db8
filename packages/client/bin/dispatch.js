#!/usr/bin/env node
// The `dispatch` CLI (src/cli.ts). A built package runs dist/cli.js; a checkout without a build
// runs the TypeScript source through tsx (a dependency of the repository).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli.js', import.meta.url);
let cli;
if (existsSync(dist)) {
  cli = await import(dist.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli.ts', import.meta.url).href);
}
process.exit(await cli.runCli(process.argv.slice(2)));
