// Pure unit tests for core/hooks.ts: the signature header, paths into a payload, template filling.
import { describe, expect, it } from 'vitest';
import { acceptsEvent, fillTemplate, placeholderPaths, signatureBytes, valueAt } from '../src/core/hooks.js';

describe('signatureBytes', () => {
  it('reads sha256=<hex> (prefix in any case, hex in any case, spaces around)', () => {
    expect(signatureBytes('sha256=00ff10')).toEqual(new Uint8Array([0, 255, 16]));
    expect(signatureBytes('  SHA256=00FF10 ')).toEqual(new Uint8Array([0, 255, 16]));
  });
  it('is undefined for anything else (a mismatch, never an exception)', () => {
    for (const h of [undefined, '', 'sha256=', 'sha256=0', 'sha256=zz', 'sha1=00', '00ff', 'sha256=00 ff', 'sha256:00ff']) {
      expect(signatureBytes(h), String(h)).toBeUndefined();
    }
  });
});

describe('valueAt and fillTemplate', () => {
  const payload = { a: { b: { c: 'deep' } }, list: [{ id: 7 }, { id: 8 }], n: 0, t: true, z: null, o: { k: [1] } };
  it('walks object keys and array indexes; own properties only', () => {
    expect(valueAt(payload, 'a.b.c')).toBe('deep');
    expect(valueAt(payload, 'list.1.id')).toBe(8);
    expect(valueAt(payload, 'list.x')).toBeUndefined();
    expect(valueAt(payload, 'list.9.id')).toBeUndefined();
    expect(valueAt(payload, 'a.b.c.d')).toBeUndefined();
    expect(valueAt(payload, '__proto__')).toBeUndefined();
    expect(valueAt(payload, 'a.constructor')).toBeUndefined();
    expect(valueAt(payload, 'list.length')).toBeUndefined();
  });
  it('fills every string of nested objects and arrays; keys and non-strings untouched; missing → empty', () => {
    const template = {
      title: '{{a.b.c}} #{{list.0.id}}',
      n: 5,
      flag: false,
      none: null,
      context: { '{{a.b.c}}': ['{{ n }}', '{{t}}', '{{z}}', '{{missing.path}}', { x: '{{o}}' }] },
    };
    expect(fillTemplate(template, payload)).toEqual({
      title: 'deep #7',
      n: 5,
      flag: false,
      none: null,
      context: { '{{a.b.c}}': ['0', 'true', '', '', { x: '{"k":[1]}' }] },
    });
    expect(template.title).toBe('{{a.b.c}} #{{list.0.id}}'); // not mutated
  });
  it('runs no code: a placeholder is only ever looked up as a path', () => {
    // `constructor.constructor("x")()` is a path that is not in the payload: empty, nothing called.
    expect(fillTemplate('{{ a.b.c }} [{{constructor.constructor("x")()}}] {{}} {a.b.c} {{a b}}', payload)).toBe('deep [] {{}} {a.b.c} {{a b}}');
    expect(fillTemplate('{{constructor}}', payload)).toBe('');
    expect(placeholderPaths({ a: ['{{x.y}} {{ z }}'] })).toEqual(['x.y', 'z']);
  });
});

describe('acceptsEvent', () => {
  it('accepts every event without a list, else only the listed ones', () => {
    expect(acceptsEvent({}, undefined)).toBe(true);
    expect(acceptsEvent({ events: ['push'] }, 'push')).toBe(true);
    expect(acceptsEvent({ events: ['push'] }, 'issues')).toBe(false);
    expect(acceptsEvent({ events: ['push'] }, undefined)).toBe(false);
  });
});
