import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isDomainError } from '../../domain/errors.ts';
import { createSmoothPicker, validateWeights } from './weights.ts';

const picks = (weights: Record<string, number>, n: number, eligible: (v: string) => boolean = () => true) => {
  const p = createSmoothPicker();
  const counts: Record<string, number> = {};
  const seq: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = p.pick(weights, eligible);
    if (v === undefined) throw new Error('no pick');
    counts[v] = (counts[v] ?? 0) + 1;
    seq.push(v);
  }
  return { counts, seq };
};

describe('validateWeights', () => {
  test('accepts integer percents summing to 100 and fills missing versions with 0', () => {
    assert.deepEqual(validateWeights({ v2: 100 }, ['v1', 'v2']), { v1: 0, v2: 100 });
    assert.ok(Object.isFrozen(validateWeights({ v1: 10, v2: 90 }, ['v1', 'v2'])));
  });
  const bad: [unknown, RegExp, string][] = [
    [{ v1: 10, v2: 80 }, /weights must sum to 100, got 90 \(v1=10, v2=80\)/, 'weights'],
    [{ v1: 101 }, /weights\.v1 must be an integer from 0 to 100, got 101/, 'weights.v1'],
    [{ v1: 50.5, v2: 49.5 }, /weights\.v1 must be an integer from 0 to 100, got 50\.5/, 'weights.v1'],
    [{ v1: -10, v2: 110 }, /weights\.v1 must be an integer/, 'weights.v1'],
    [{ v1: '100' }, /weights\.v1 must be an integer from 0 to 100, got "100"/, 'weights.v1'],
    [{ v3: 100 }, /weights\.v3: unknown version "v3"; the proxy's versions are v1, v2/, 'weights.v3'],
    [[100], /weights must be an object of version -> integer percent, got an array/, 'weights'],
    [null, /got object/, 'weights'],
  ];
  for (const [input, message, field] of bad) {
    test(`refuses ${JSON.stringify(input)} with a clear error`, () => {
      assert.throws(() => validateWeights(input, ['v1', 'v2']), (e: unknown) => isDomainError(e) && e.code === 'invalid_input' && message.test(e.message) && e.details.field === field && typeof e.details.fix === 'string');
    });
  }
});

describe('smooth weighted round robin', () => {
  test('10/90 is exact over 2,000 picks and interleaved', () => {
    const { counts, seq } = picks({ v1: 10, v2: 90 }, 2000);
    assert.deepEqual(counts, { v1: 200, v2: 1800 });
    for (let i = 1; i < seq.length; i++) assert.ok(!(seq[i] === 'v1' && seq[i - 1] === 'v1'), 'never two canary picks in a row at 10%');
  });
  test('0/100 never picks the weight-0 version; none eligible gives undefined', () => {
    assert.deepEqual(picks({ v1: 0, v2: 100 }, 50).counts, { v2: 50 });
    assert.equal(createSmoothPicker().pick({ v1: 100 }, () => false), undefined);
  });
  test('an ineligible version gives its share to the others in proportion', () => {
    assert.deepEqual(picks({ a: 20, b: 40, c: 40 }, 100, (v) => v !== 'a').counts, { b: 50, c: 50 });
  });
  test('property: every version gets exactly its weight in each window of 100 picks', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { minLength: 1, maxLength: 6 }), (raw) => {
        const sum = raw.reduce((s, x) => s + x, 0);
        if (sum === 0) return;
        const ws = raw.map((x) => Math.floor((x * 100) / sum));
        ws[0]! += 100 - ws.reduce((s, x) => s + x, 0);
        const weights = Object.fromEntries(ws.map((w, i) => [`v${i}`, w]));
        const { counts } = picks(weights, 300);
        for (const [v, w] of Object.entries(weights)) assert.equal(counts[v] ?? 0, w * 3, `${v} with weight ${w}`);
      }),
    );
  });
});
