import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { effectiveAllowlist, expiryInstant, globToRe2, knownRuleIds, normalizeScanSection, scanSectionSchema } from './allowlist.ts';
import { fingerprintOf, scanText } from './detect.ts';
import { compileRe2 } from './rules.ts';
import { fakes } from './test-fakes.ts';

const glob = (g: string, p: string) => compileRe2(globToRe2(g)).matcher(p).matches();
const policy = (allow: unknown[]) => normalizeScanSection(scanSectionSchema.parse({ allow }));

describe('globToRe2', () => {
  test('* stays in one folder, ** crosses folders, ? is one character, / and ! match each other', () => {
    assert.ok(glob('config/*.yaml', 'config/app.yaml'));
    assert.ok(!glob('config/*.yaml', 'config/prod/app.yaml'));
    assert.ok(glob('config/**/*.yaml', 'config/prod/eu/app.yaml'));
    assert.ok(glob('config/**/*.yaml', 'config/app.yaml'));
    assert.ok(glob('**', 'a/b/c'));
    assert.ok(glob('app-?.tgz!**', 'app-1.tgz!package/x.js'));
    assert.ok(glob('app-1.tgz/package/*.js', 'app-1.tgz!package/x.js'));
    assert.ok(!glob('*.tgz', 'app.tgz!package/x.js'));
    assert.ok(glob('a+b (1).[x]$', 'a+b (1).[x]$'), 'regex characters are literal');
    assert.ok(!glob('a.b', 'axb'));
  });
  test('property: every glob compiles, and a glob without wildcards matches exactly itself', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        compileRe2(globToRe2(s));
        const literal = s.replace(/[*?]/g, '');
        assert.ok(glob(literal, literal));
      }),
      { numRuns: 300 },
    );
  });
});

describe('expiry', () => {
  test('a date ends with its day (UTC); a timestamp at its instant; anything else is refused', () => {
    assert.equal(expiryInstant('2026-03-01'), Date.parse('2026-03-02T00:00:00Z'));
    assert.equal(expiryInstant('2026-03-01T10:00:00Z'), Date.parse('2026-03-01T10:00:00Z'));
    assert.equal(expiryInstant('2026-03-01T10:00:00+02:00'), Date.parse('2026-03-01T08:00:00Z'));
    for (const bad of ['tomorrow', '2026-13-01', '2026-3-1', '2026-03-01T10:00', '']) assert.equal(expiryInstant(bad), undefined, bad);
  });
});

describe('effectiveAllowlist', () => {
  const key = fakes.awsAccessKeyId();
  const text = `aws_access_key_id = ${key}\n`;
  const found = scanText(text, { file: 'conf/creds.ini' });
  test('the rule ids come from the vendored rules', () => {
    assert.ok(knownRuleIds().has('aws-access-token') && knownRuleIds().has('generic-api-key') && knownRuleIds().size > 100);
  });
  test('by rule, path, fingerprint: every field given must match', () => {
    assert.equal(found.length, 1);
    const fp = fingerprintOf(found[0]!);
    const cases: [unknown, boolean][] = [
      [{ rule: 'aws-access-token', reason: 'r' }, true],
      [{ rule: 'github-pat', reason: 'r' }, false],
      [{ path: 'conf/*.ini', reason: 'r' }, true],
      [{ path: '*.ini', reason: 'r' }, false],
      [{ fingerprint: fp, reason: 'r' }, true],
      [{ fingerprint: found[0]!.secretHash, reason: 'r' }, true],
      [{ fingerprint: '0'.repeat(16), reason: 'r' }, fp === '0'.repeat(16)],
      [{ rule: 'aws-access-token', path: 'other/**', reason: 'r' }, false],
      [{ rule: 'aws-access-token', path: 'conf/**', fingerprint: fp, reason: 'r' }, true],
    ];
    for (const [entry, allowed] of cases) {
      const { allowlist } = effectiveAllowlist(policy([entry]), new Date());
      const suppressed: string[] = [];
      const left = scanText(text, { file: 'conf/creds.ini', allowlist, onSuppressed: (_f, r) => suppressed.push(r) });
      assert.equal(left.length === 0, allowed, JSON.stringify(entry));
      assert.equal(suppressed.length, allowed ? 1 : 0);
    }
  });
  test('the reason carries the owner and the entry it came from', () => {
    const { allowlist } = effectiveAllowlist(policy([{ rule: 'aws-access-token', reason: ' revoked ', owner: 'user:alice' }]), new Date());
    assert.equal(allowlist[0]?.reason, 'revoked (owner user:alice) [scan.allow[0] rule aws-access-token]');
  });
  test('expired entries are dropped with a note naming them', () => {
    const p = policy([
      { rule: 'aws-access-token', reason: 'old', expires: '2026-01-01' },
      { path: 'x/**', reason: 'current', expires: '2026-12-31' },
    ]);
    const r = effectiveAllowlist(p, new Date('2026-06-01T00:00:00Z'));
    assert.equal(r.allowlist.length, 1);
    assert.match(r.allowlist[0]!.reason, /^current/);
    assert.deepEqual(r.notes, [
      'scan.allow[0] rule aws-access-token expired at 2026-01-02T00:00:00.000Z and no longer applies (reason was: old); renew its expires date or remove it',
    ]);
    assert.deepEqual(effectiveAllowlist(undefined, new Date()), { allowlist: [], notes: [] });
  });
});
