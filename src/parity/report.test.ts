import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parsePointer, patternCovers, toPointer } from './pointer.ts';
import { parityReport } from './report.ts';
import { expiredParityRules, noParityRules, type ParityRule, type ParityRules } from './rules.ts';
import type { EnvironmentSnapshot } from './snapshot.ts';
import { parityTable } from './format.ts';

const now = new Date('2026-11-26T12:00:00Z');
const digest = (c: string) => `sha256:${c.repeat(64)}`;

function snap(environment: string, over: { replicas?: number; pool?: number; version?: string; flag?: string; keyId?: string; extra?: Record<string, unknown> } = {}): EnvironmentSnapshot {
  return {
    environment,
    services: {
      checkout: {
        release: { id: digest(over.version === '2' ? 'b' : 'a'), version: over.version ?? '1', digests: { 'server.js': digest(over.version === '2' ? 'd' : 'c') } },
        config: { config: { db: { pool: over.pool ?? 10, host: 'db' } }, runtime: { replicas: over.replicas ?? 3 }, secrets: { DB: 'db_password' }, ...over.extra },
        secrets: { db_password: { present: true, keyId: over.keyId ?? `k-${environment}`, ageDays: 3 } },
      },
    },
    flags: { 'new-ui': { state: over.flag ?? 'ENABLED', defaultVariant: 'on', variantsDigest: 'v1', targetingDigest: 't1' } },
  };
}

const rule = (over: Partial<ParityRule> = {}): ParityRule => {
  const path = over.path ?? '/checkout/runtime/replicas';
  const p = parsePointer(path);
  assert.ok(p.ok);
  return { id: 'replicas', path, pattern: p.segments, environments: ['staging', 'prod'], reason: 'staging is smaller', owner: 'team-sre', expires: '2027-01-31', ...over };
};
const rules = (...allow: ParityRule[]): ParityRules => ({ allow, secretAgeToleranceDays: 30 });

describe('parityReport', () => {
  test('a snapshot against itself: no differences, score 1', () => {
    const r = parityReport(snap('staging'), snap('staging'), noParityRules, { now });
    assert.equal(r.differences.length, 0);
    assert.equal(r.score, 1);
    assert.ok(r.compared > 5);
  });

  test('property: any JSON config compared with itself has no differences and score 1', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 }), (doc) => {
        const s = snap('a', { extra: { config: doc } });
        const r = parityReport(s, structuredClone(s), noParityRules, { now });
        return r.differences.length === 0 && r.score === 1 && r.findings === 0;
      }),
    );
  });

  test('property: findings + allowed + equal = compared, and the score is in [0, 1]', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }), (x, y) => {
        const r = parityReport(snap('a', { extra: { config: { x } } }), snap('b', { extra: { config: { x: y } } }), noParityRules, { now });
        return r.findings + r.allowed + r.equal === r.compared && r.score >= 0 && r.score <= 1;
      }),
    );
  });

  test('each difference is a leaf pointer; findings first; a rule allows one', () => {
    const r = parityReport(snap('staging', { replicas: 2, pool: 5, version: '2' }), snap('prod'), rules(rule()), { now });
    const paths = r.differences.map((d) => `${d.status} ${d.path}`);
    assert.deepEqual(paths, [
      'finding /checkout/config/db/pool',
      'finding /checkout/release',
      'finding /checkout/release/digests/server.js',
      'allowed /checkout/runtime/replicas',
    ]);
    const allowed = r.differences.at(-1)!;
    assert.deepEqual(allowed.rule, { id: 'replicas', reason: 'staging is smaller', owner: 'team-sre', expires: '2027-01-31', expired: false });
    assert.equal(allowed.a, 2);
    assert.equal(allowed.b, 3);
    assert.equal(r.findings, 3);
    assert.equal(r.score, Math.round(((r.compared - 3) / r.compared) * 10_000) / 10_000);
  });

  test('the environment pair is order-insensitive; other pairs are not covered', () => {
    const swapped = parityReport(snap('prod'), snap('staging', { replicas: 2 }), rules(rule()), { now });
    assert.equal(swapped.differences[0]?.status, 'allowed');
    const other = parityReport(snap('dev', { replicas: 2 }), snap('prod'), rules(rule()), { now });
    assert.equal(other.differences[0]?.status, 'finding');
  });

  test('an expired rule makes its difference a finding that names the rule and the date', () => {
    const r = parityReport(snap('staging', { replicas: 2 }), snap('prod'), rules(rule({ expires: '2026-11-25' })), { now });
    const [d] = r.differences;
    assert.equal(d?.status, 'finding');
    assert.match(d?.message ?? '', /rule replicas allowed it but expired on 2026-11-25/);
    assert.equal(expiredParityRules(rules(rule({ expires: '2026-11-25' })), now).length, 1);
    // the rule holds through its last day
    assert.equal(expiredParityRules(rules(rule({ expires: '2026-11-26' })), now).length, 0);
  });

  test('wildcards match one segment; a pattern covers everything below it; services restrict', () => {
    const r = parityReport(snap('staging', { replicas: 2, pool: 5 }), snap('prod'), rules(rule({ id: 'any', path: '/*/config', environments: '*' })), { now });
    assert.equal(r.differences.find((d) => d.path === '/checkout/config/db/pool')?.status, 'allowed');
    assert.equal(r.differences.find((d) => d.path === '/checkout/runtime/replicas')?.status, 'finding');
    const other = parityReport(snap('staging', { pool: 5 }), snap('prod'), rules(rule({ path: '/*/config', services: ['payments'] })), { now });
    assert.equal(other.findings, 1);
  });

  test('flags and secrets: never values; the same key id in two environments is a finding', () => {
    const r = parityReport(snap('staging', { flag: 'DISABLED', keyId: 'same' }), snap('prod', { keyId: 'same' }), noParityRules, { now });
    assert.deepEqual(r.differences.map((d) => d.path), ['/_flags/new-ui/state', '/checkout/secrets/db_password/keyId']);
  });

  test('a secret missing on one side', () => {
    const b = snap('prod');
    b.services['checkout']!.secrets = {};
    const r = parityReport(snap('staging'), b, noParityRules, { now });
    assert.deepEqual(r.differences.map((d) => [d.path, d.a, d.b]), [['/checkout/secrets/db_password/present', true, false]]);
  });

  test('releases: false leaves the versions out (the promotion gate)', () => {
    const r = parityReport(snap('staging', { version: '2' }), snap('prod'), noParityRules, { now, releases: false });
    assert.equal(r.differences.length, 0);
  });

  test('the table puts findings first and aligns columns', () => {
    const text = parityTable(parityReport(snap('staging', { replicas: 2, pool: 5 }), snap('prod'), rules(rule()), { now }));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^parity staging vs prod: score 0\.\d{4}; \d+ compared/);
    assert.match(lines[1]!, /^STATUS\s+PATH\s+STAGING\s+PROD\s+WHY$/);
    assert.match(lines[2]!, /^FINDING\s+\/checkout\/config\/db\/pool\s+5\s+10\s+not allowed/);
    assert.match(lines[3]!, /^allowed\s+\/checkout\/runtime\/replicas\s+2\s+3\s+replicas: staging is smaller/);
    assert.equal(lines[2]!.indexOf('/checkout'), lines[3]!.indexOf('/checkout'));
  });
});

describe('JSON Pointers', () => {
  test('escapes round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }), (segs) => {
        const p = parsePointer(toPointer(segs));
        return p.ok && JSON.stringify(p.segments) === JSON.stringify(segs);
      }),
    );
  });
  test('bad pointers say what to fix', () => {
    const a = parsePointer('checkout/x');
    assert.ok(!a.ok && /does not start with "\/"/.test(a.message));
    const b = parsePointer('/a~2b');
    assert.ok(!b.ok && /~0/.test(b.fix));
    assert.ok(!parsePointer('/a~').ok);
  });
  test('wildcard matching', () => {
    assert.ok(patternCovers(['*', 'config'], ['checkout', 'config', 'db']));
    assert.ok(!patternCovers(['*', 'config'], ['checkout', 'runtime']));
    assert.ok(!patternCovers(['a', 'b', 'c'], ['a', 'b']));
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 4 }), { maxLength: 6 }), (path) => patternCovers(path.map(() => '*'), path) && patternCovers([], path)));
  });
});
