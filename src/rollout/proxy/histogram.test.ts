import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createLatencyHistogram } from './histogram.ts';

const exact = (values: number[], p: number) => {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length, Math.max(1, Math.ceil((p / 100) * s.length))) - 1]!;
};

test('an empty histogram reports zeros', () => {
  assert.deepEqual(createLatencyHistogram().summary(), { count: 0, p50: 0, p90: 0, p99: 0, max: 0 });
});

test('percentiles of 1..1000 ms are within 1% of the exact nearest-rank values; reset empties it', () => {
  const h = createLatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.record(i);
  const s = h.summary();
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 500) <= 5, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.p99 - 990) <= 9.9, `p99 ${s.p99}`);
  assert.equal(s.max, 1000);
  h.reset();
  assert.equal(h.count, 0);
});

test('ignores negative and non-finite values; clamps huge ones to the top bucket', () => {
  const h = createLatencyHistogram({ highestMs: 1000 });
  h.record(-1);
  h.record(Number.NaN);
  h.record(5000);
  assert.equal(h.count, 1);
  assert.ok(h.percentile(100) <= 5000 && h.percentile(100) >= 990);
});

test('property: every percentile is within 1% of the exact one', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: 0.01, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (values, p) => {
      const h = createLatencyHistogram();
      for (const v of values) h.record(v);
      const want = exact(values, p);
      const got = h.percentile(p);
      assert.ok(Math.abs(got - want) <= want * 0.0100001, `p${p}: got ${got}, want ${want}`);
    }),
  );
});
