import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { allowedFields, DURATION_RE, ENV_NAME_RE, parseDuration } from './schema.ts';

describe('parseDuration', () => {
  test('units and compound durations', () => {
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('10m'), 600_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('365d'), 365 * 86_400_000);
  });
  test('refuses malformed and too long durations', () => {
    for (const bad of ['', '5', 's', '1 m', '-1s', '1.5h', '1w', '1m1m1m1m1m', '366d', '9999999s', '1h ']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });
  test('property: total and consistent with DURATION_RE', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (s) => {
        const ms = parseDuration(s);
        if (ms !== undefined) assert.ok(DURATION_RE.test(s) && Number.isSafeInteger(ms) && ms >= 0);
        if (!DURATION_RE.test(s)) assert.equal(ms, undefined);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999 }), fc.constantFrom('s', 'm', 'h'), (n, u) => {
        assert.equal(parseDuration(`${n}${u}`), n * { s: 1000, m: 60_000, h: 3_600_000 }[u]);
      }),
    );
  });
});

test('STAGEGATE_ variables are reserved; allowed fields come from the schema', () => {
  assert.ok(ENV_NAME_RE.test('NODE_ENV'));
  assert.ok(!ENV_NAME_RE.test('STAGEGATE_SERVICE'));
  assert.ok(!ENV_NAME_RE.test('1X'));
  assert.deepEqual(allowedFields['environments[]'], ['name', 'tier', 'target', 'trustedKeys', 'requires', 'minSoak', 'rules', 'approvals', 'freezes', 'parity', 'drift', 'platform', 'rollout', 'verification']);
  // every target type's fields, exec's first
  assert.deepEqual(allowedFields['targets.*']?.slice(0, 6), ['type', 'deploy', 'verify', 'observe', 'timeoutSeconds', 'env']);
  for (const f of ['command', 'readiness', 'remote', 'branchMode', 'url', 'secretEnv']) assert.ok(allowedFields['targets.*']?.includes(f), f);
});
