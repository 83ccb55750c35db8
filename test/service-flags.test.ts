// npm start runs `node <flags> dist/main.js` (package.json); the flags (V8's generation sizes that
// keep it collecting early, docs/operations.md "Memory") are the service's, so every other way of
// running it — the Docker image, `dispatch start`, the bench — must pass the same ones.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serviceNodeFlags } from '../packages/client/src/cli.js';

const ROOT = new URL('../', import.meta.url).pathname;

describe("npm start's node flags", () => {
  it('size the old and young generations, and the Dockerfile runs the service with the same flags', () => {
    const flags = serviceNodeFlags(ROOT);
    expect(flags).toEqual(['--max-old-space-size=512', '--initial-old-space-size=80', '--max-semi-space-size=8']);
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(`${ROOT}Dockerfile`, 'utf8'));
    const args = JSON.parse(cmd![1]!) as string[];
    expect(args).toEqual(['node', ...flags, 'dist/main.js']);
  });
});
