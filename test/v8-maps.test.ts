// The hot path's copies keep one V8 map from call to call (store/tasks.ts withVersion). On Node
// 20, `{ ...obj, newField }` gives every call a new map and descriptor array: old-space garbage by
// the thousand per second, and megamorphic property access wherever such objects go.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/v8-maps.ts', import.meta.url));

describe('hot-path copies and V8 maps', () => {
  it('a versioned row, a versioned change and a stored event form share one map across calls', () => {
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', FIXTURE], { encoding: 'utf8' });
    const maps = JSON.parse(out.trim().split('\n').pop()!) as Record<string, boolean>;
    // The control: the pattern replaced still makes a new map per call on this V8, so the check can fail.
    expect(maps.spreadControl).toBe(false);
    expect(maps).toEqual({ withVersion: true, writeOf: true, storedForm: true, spreadControl: false });
  });
});
