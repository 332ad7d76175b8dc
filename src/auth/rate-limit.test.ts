import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { createFailureLimiter } from './rate-limit.ts';

function fixture(o: { maxFailures?: number; windowMs?: number; lockoutMs?: number; maxKeys?: number } = {}) {
  let now = 1_000_000;
  const limiter = createFailureLimiter({
    maxFailures: o.maxFailures ?? 5,
    windowMs: o.windowMs ?? 60_000,
    lockoutMs: o.lockoutMs ?? 300_000,
    clock: () => new Date(now),
    ...(o.maxKeys !== undefined ? { maxKeys: o.maxKeys } : {}),
  });
  return {
    limiter,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const addr = 'addr:203.0.113.7';
const tok = 'token:AbCd1234';

describe('failure limiter', () => {
  test('locks a key after maxFailures within the window, for lockoutMs', () => {
    const { limiter, advance } = fixture();
    for (let i = 0; i < 4; i++) assert.equal(limiter.fail([addr]).allowed, true, `failure ${i + 1}`);
    assert.deepEqual(limiter.check([addr]), { allowed: true, retryAfterMs: 0 });
    assert.deepEqual(limiter.fail([addr]), { allowed: false, retryAfterMs: 300_000 });
    advance(100_000);
    assert.deepEqual(limiter.check([addr]), { allowed: false, retryAfterMs: 200_000 });
    advance(200_000);
    assert.deepEqual(limiter.check([addr]), { allowed: true, retryAfterMs: 0 });
  });

  test('failures spread over more than the window do not lock', () => {
    const { limiter, advance } = fixture();
    for (let i = 0; i < 20; i++) {
      assert.equal(limiter.fail([addr]).allowed, i % 4 !== 4, `failure ${i}`);
      if (i % 4 === 3) advance(60_000);
    }
    assert.equal(limiter.check([addr]).allowed, true);
  });

  test('a request is refused when any of its keys is locked; other keys are unaffected', () => {
    const { limiter } = fixture({ maxFailures: 3 });
    for (let i = 0; i < 3; i++) limiter.fail([addr, tok]);
    assert.equal(limiter.check([addr]).allowed, false);
    assert.equal(limiter.check([tok]).allowed, false);
    assert.equal(limiter.check(['addr:198.51.100.1', tok]).allowed, false, 'same token from another address');
    assert.equal(limiter.check([addr, 'token:other']).allowed, false, 'other token from the locked address');
    assert.equal(limiter.check(['addr:198.51.100.1', 'token:other']).allowed, true);
  });

  test('retryAfterMs is the latest unlock time among the keys', () => {
    const { limiter, advance } = fixture({ maxFailures: 1, lockoutMs: 10_000 });
    limiter.fail([addr]);
    advance(4_000);
    limiter.fail([tok]);
    assert.deepEqual(limiter.check([addr, tok]), { allowed: false, retryAfterMs: 10_000 });
    assert.deepEqual(limiter.check([addr]), { allowed: false, retryAfterMs: 6_000 });
  });

  test('failures during a lockout do not extend it', () => {
    const { limiter, advance } = fixture({ maxFailures: 2, lockoutMs: 10_000 });
    limiter.fail([addr]);
    limiter.fail([addr]);
    advance(5_000);
    for (let i = 0; i < 10; i++) limiter.fail([addr]);
    assert.deepEqual(limiter.check([addr]), { allowed: false, retryAfterMs: 5_000 });
  });

  test('succeed forgets failures but does not lift a lockout', () => {
    const { limiter } = fixture({ maxFailures: 3 });
    limiter.fail([tok]);
    limiter.fail([tok]);
    limiter.succeed([tok]);
    limiter.fail([tok]);
    limiter.fail([tok]);
    assert.equal(limiter.check([tok]).allowed, true, 'counting restarted after success');
    limiter.fail([tok]);
    assert.equal(limiter.check([tok]).allowed, false);
    limiter.succeed([tok]);
    assert.equal(limiter.check([tok]).allowed, false, 'still locked');
  });

  test('memory is bounded: at most maxKeys keys, expired ones evicted first', () => {
    const { limiter, advance } = fixture({ maxFailures: 2, maxKeys: 100, lockoutMs: 1_000_000 });
    limiter.fail(['locked']);
    limiter.fail(['locked']);
    for (let i = 0; i < 10_000; i++) {
      limiter.fail([`addr:${i}`]);
      assert.ok(limiter.size() <= 100);
    }
    assert.equal(limiter.size(), 100);
    // a flood of single failures pushes out unlocked entries, not the locked one
    assert.equal(limiter.check(['locked']).allowed, false, 'locked key survives a flood of 10,000 keys');
    advance(61_000);
    for (let i = 0; i < 500; i++) limiter.fail([`late:${i}`]);
    assert.equal(limiter.size(), 100);
    assert.equal(limiter.check(['locked']).allowed, false, 'and a flood after the window');
    // only when the oldest entries are all locked does the least recently used one go
    const { limiter: l2 } = fixture({ maxFailures: 1, maxKeys: 40, lockoutMs: 1_000_000 });
    for (let i = 0; i < 41; i++) l2.fail([`k${i}`]);
    assert.equal(l2.size(), 40);
    assert.equal(l2.check(['k0']).allowed, true, 'k0 evicted');
    assert.equal(l2.check(['k40']).allowed, false);
  });

  test('huge keys are hashed, not stored', () => {
    const { limiter } = fixture({ maxFailures: 1 });
    const big = `token:${'x'.repeat(1_000_000)}`;
    limiter.fail([big]);
    assert.equal(limiter.check([big]).allowed, false);
    assert.equal(limiter.check([`token:${'x'.repeat(999_999)}y`]).allowed, true);
  });

  test('refuses bad options and too many keys per call', () => {
    for (const bad of [{ maxFailures: 0 }, { windowMs: -1 }, { lockoutMs: 1.5 }, { maxKeys: 0 }]) {
      assert.throws(() => fixture(bad), DomainError);
    }
    const { limiter } = fixture();
    assert.throws(() => limiter.check(Array.from({ length: 9 }, (_, i) => `k${i}`)), DomainError);
  });

  test('property: agrees with a model that keeps every failure time', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('fail' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constant('succeed' as const), key: fc.constantFrom('a', 'b', 'c') }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const windowMs = 30_000;
        const lockoutMs = 50_000;
        const maxFailures = 3;
        const { limiter, advance } = fixture({ maxFailures, windowMs, lockoutMs });
        let now = 0;
        // model: per key, window start, count, locked-until; same fixed-window semantics
        const m = new Map<string, { start: number; n: number; until: number }>();
        for (const o of ops) {
          if (o.kind === 'wait') {
            advance(o.ms);
            now += o.ms;
            continue;
          }
          const e = m.get(o.key);
          if (o.kind === 'succeed') {
            if (e && e.until > now) e.n = 0;
            else m.delete(o.key);
            limiter.succeed([o.key]);
            continue;
          }
          let x = e;
          if (!x || (now - x.start >= windowMs && x.until <= now)) x = { start: now, n: 0, until: 0 };
          if (x.until <= now) {
            x.n += 1;
            if (x.n >= maxFailures) x = { start: now, n: 0, until: now + lockoutMs };
          }
          m.set(o.key, x);
          limiter.fail([o.key]);
          for (const k of ['a', 'b', 'c']) {
            const me = m.get(k);
            const locked = !!me && me.until > now;
            assert.deepEqual(limiter.check([k]), { allowed: !locked, retryAfterMs: locked ? me!.until - now : 0 });
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
