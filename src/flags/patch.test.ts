import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isDomainError } from '../domain/errors.ts';
import type { FlagSet } from './flag-set.ts';
import { applyFlagPatch, diffFlagSets, parsePatch } from './patch.ts';

const base: FlagSet = { flags: { a: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' } } };

function refused(fn: () => unknown, ...patterns: RegExp[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isDomainError(e), String(e));
    assert.equal(e.code, 'invalid_input');
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(e.details.fix);
    return true;
  });
}

describe('RFC 6902 patches on flag sets', () => {
  test('apply works on a copy', () => {
    const snapshot = structuredClone(base);
    const out = applyFlagPatch(base, parsePatch([{ op: 'replace', path: '/flags/a/state', value: 'DISABLED' }], 'w'), 'w') as FlagSet;
    assert.equal(out.flags['a']?.state, 'DISABLED');
    assert.deepEqual(base, snapshot);
  });

  test('errors name the op index and the pointer; nothing is half-applied', () => {
    const snapshot = structuredClone(base);
    refused(
      () => applyFlagPatch(base, parsePatch([{ op: 'replace', path: '/flags/a/state', value: 'DISABLED' }, { op: 'test', path: '/flags/a/defaultVariant', value: 'on' }], 'w'), 'w'),
      /patch operation 1 at \/flags\/a\/defaultVariant: test failed/,
    );
    assert.deepEqual(base, snapshot);
    refused(() => applyFlagPatch(base, parsePatch([{ op: 'remove', path: '/flags/zz' }], 'w'), 'w'), /operation 0 at \/flags\/zz: the path does not exist/);
    refused(() => applyFlagPatch(base, parsePatch([{ op: 'move', from: '/flags/zz', path: '/flags/b' }], 'w'), 'w'), /operation 0 .*`from` path does not exist/);
    refused(() => parsePatch([{ op: 'add', path: 'flags/b', value: 1 }], 'w'), /operation 0 at flags\/b: the path is not a JSON Pointer/);
    refused(() => parsePatch([{ op: 'add', path: '/flags/~2', value: 1 }], 'w'), /not a JSON Pointer/);
    refused(() => parsePatch([{ op: 'add', path: '/__proto__/x', value: 1 }], 'w'), /reserved member/);
    refused(() => parsePatch([{ op: 'replace', path: '/flags/a/state', value: 'x' }, { op: 'frobnicate', path: '/x' }], 'w'), /patch operation 1/);
    refused(() => parsePatch([], 'w'), /not a list of RFC 6902 operations/);
    refused(() => parsePatch({ op: 'add' }, 'w'), /not a list/);
  });

  test('diff then apply gives the target', () => {
    const next: FlagSet = structuredClone(base);
    next.flags['a']!.defaultVariant = 'on';
    next.flags['b'] = { state: 'DISABLED', variants: { x: 'y' }, defaultVariant: 'x' };
    const ops = diffFlagSets(base, next);
    assert.deepEqual(applyFlagPatch(base, parsePatch(ops, 'w'), 'w'), next);
  });

  test('property: random operations either apply or fail with invalid_input', () => {
    const op = fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'test', 'move', 'copy'), path: fc.constantFrom('/flags/a/state', '/flags/b', '/flags', '', '/x/y', 'bad'), from: fc.constantFrom('/flags/a', '/nope'), value: fc.jsonValue() });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 5 }), (ops) => {
        const clean = ops.map((o) => (o.op === 'remove' ? { op: o.op, path: o.path } : o.op === 'move' || o.op === 'copy' ? { op: o.op, from: o.from, path: o.path } : { op: o.op, path: o.path, value: o.value }));
        const snapshot = structuredClone(base);
        try {
          applyFlagPatch(base, parsePatch(clean, 'w'), 'w');
        } catch (e) {
          assert.ok(isDomainError(e) && e.code === 'invalid_input', String(e));
        }
        assert.deepEqual(base, snapshot);
      }),
      { numRuns: 300 },
    );
  });
});
