import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { isDomainError } from '../domain/errors.ts';
import { canonicalFlagSet, flagLimits, flagSetDigest, parseFlagSetText, validateFlagSet } from './flag-set.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const flag = (over: Record<string, unknown> = {}) => ({ state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', ...over });

function refused(fn: () => unknown, ...patterns: RegExp[]) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isDomainError(e), String(e));
    assert.equal(e.code, 'invalid_input');
    for (const p of patterns) assert.match(e.message, p);
    assert.ok(typeof e.details.fix === 'string' && e.details.fix.length > 5, 'a fix');
    return true;
  });
}

describe('flag sets (flagd format)', () => {
  test('the example flag files are valid; staging and prod differ in one flag state only', async () => {
    const sets: Record<string, unknown> = {};
    for (const env of ['dev', 'staging', 'prod']) {
      const file = path.join(root, 'examples', 'shop', 'flags', `${env}.flagd.json`);
      sets[env] = parseFlagSetText(await readFile(file, 'utf8'), file);
    }
    const staging = structuredClone(sets['staging']) as { flags: Record<string, { state: string }> };
    staging.flags['new-checkout']!.state = 'DISABLED';
    assert.deepEqual(staging, sets['prod']);
  });

  test('schema errors name the file, the JSON pointer and a fix', () => {
    refused(() => validateFlagSet({ flags: { a: flag({ state: 'ON' }) } }, 'f.json'), /^f\.json: \/flags\/a\/state: does not match flagd's schema: must be one of ENABLED, DISABLED$/);
    refused(() => validateFlagSet({ flags: { a: flag({ defaultVariant: 'maybe' }) } }, 'f.json'), /\/flags\/a\/defaultVariant: Default variant maybe missing/);
    refused(() => validateFlagSet({ flags: { a: flag({ targeting: { nope: [1] } }) } }, 'f.json'), /\/flags\/a\/targeting/);
    refused(() => validateFlagSet({ flags: { a: flag({ colour: 'red' }) } }, 'f.json'), /\/flags\/a: .*unknown field "colour"/);
    refused(() => validateFlagSet({ flags: { a: flag({ variants: { on: true, off: 'no' } }) } }, 'f.json'), /\/flags\/a\/variants\/(on|off)/);
    refused(() => validateFlagSet([], 'f.json'), /\(root\): a flag set must be a JSON object/);
    refused(() => validateFlagSet({}, 'f.json'), /\/flags: missing/);
    refused(() => validateFlagSet({ flags: { 'a b': flag() } }, 'f.json'), /\/flags\/a b: flag key is not allowed/);
  });

  test('bounds: flag count, variants, nesting, size', () => {
    const many = Object.fromEntries(Array.from({ length: flagLimits.flags + 1 }, (_, i) => [`f${i}`, flag()]));
    refused(() => validateFlagSet({ flags: many }, 'f.json'), /501 flags is over the limit of 500/);
    const variants = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, i]));
    refused(() => validateFlagSet({ flags: { a: { state: 'ENABLED', variants, defaultVariant: 'v0' } } }, 'f.json'), /more than 100 variants/);
    let deep: unknown = 'on';
    for (let i = 0; i < 20; i++) deep = { if: [true, deep, null] };
    refused(() => validateFlagSet({ flags: { a: flag({ targeting: deep }) } }, 'f.json'), /nested more than/);
    refused(() => parseFlagSetText(' '.repeat(flagLimits.bytes + 1), 'big.json'), /over the limit/);
  });

  test('JSON syntax errors carry line and column', () => {
    refused(() => parseFlagSetText('{\n  "flags": {,}\n}', 'x.flagd.json'), /^x\.flagd\.json:2:\d+: \(root\): not valid JSON/);
  });

  test('canonical JSON and digest do not depend on key order', () => {
    const a = { flags: { b: flag(), a: flag() } };
    const b = { flags: { a: { defaultVariant: 'off', variants: { off: false, on: true }, state: 'ENABLED' }, b: flag() } };
    assert.equal(canonicalFlagSet(a as never), canonicalFlagSet(b as never));
    assert.equal(flagSetDigest(a as never), flagSetDigest(b as never));
    assert.match(flagSetDigest(a as never), /^sha256:[0-9a-f]{64}$/);
  });

  test('property: any text either parses to a flag set or fails with invalid_input (never anything else)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          const set = parseFlagSetText(text, 'p.json');
          assert.equal(typeof set.flags, 'object');
        } catch (e) {
          assert.ok(isDomainError(e) && e.code === 'invalid_input', String(e));
        }
      }),
      { numRuns: 300 },
    );
  });
});
