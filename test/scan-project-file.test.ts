/**
 * The `scan` section of stagegate.yaml: allowlist entries need a reason and at least one of rule,
 * path, fingerprint; bad entries are refused at load with file:line:column; entries are normalized
 * (expiry as an instant) and stop applying once expired.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { isDomainError } from '../src/domain/errors.ts';
import { type ProjectProblem, parseProject } from '../src/project/load.ts';
import { effectiveAllowlist } from '../src/secrets/scan/allowlist.ts';
import { scanText } from '../src/secrets/scan/detect.ts';
import { fakes } from '../src/secrets/scan/test-fakes.ts';

const pub = String(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }));
const readFile = async (p: string) => {
  if (p === '/p/keys/ci.pub') return pub;
  throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
};
const base = `apiVersion: stagegate.dev/v1
project: shop
keys:
  - name: ci
    publicKey: keys/ci.pub
services:
  - name: checkout
targets:
  local-exec:
    type: exec
    deploy: ["node", "deploy.js"]
environments:
  - name: dev
    tier: dev
    target: local-exec
    trustedKeys: [ci]
`;
// line 17 is `scan:`, 18 `  allow:`, the first entry starts on line 19 at column 7
const withScan = (entries: string) => `${base}scan:\n  allow:\n${entries}`;
const parse = (text: string) => parseProject(text, { file: 'stagegate.yaml', baseDir: '/p', readFile });

async function problems(text: string): Promise<ProjectProblem[]> {
  const e = await parse(text).then(
    () => assert.fail('expected the project to be refused'),
    (err: unknown) => err,
  );
  assert.ok(isDomainError(e) && e.code === 'invalid_input');
  const ps = e.details.problems as ProjectProblem[];
  for (const p of ps) assert.ok(e.message.includes(`stagegate.yaml:${p.line}:${p.column}: ${p.field}: ${p.message}`), e.message);
  return ps;
}

describe('project file: scan.allow', () => {
  test('no scan section: no allowlist', async () => {
    const p = await parse(base);
    assert.equal(p.scan, undefined);
    assert.deepEqual(effectiveAllowlist(p.scan, new Date()).allowlist, []);
  });

  test('entries are normalized: expiry becomes the instant the entry stops applying', async () => {
    const p = await parse(
      withScan(
        [
          '    - rule: aws-access-token',
          '      path: "dist/*.tgz!**"',
          '      reason: revoked demo key',
          '      owner: user:alice',
          '      expires: 2026-12-31',
          '    - fingerprint: 0123456789abcdef',
          '      reason: test fixture',
          '      expires: 2026-06-01T12:00:00+02:00',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(p.scan?.allow, [
      { index: 0, rule: 'aws-access-token', path: 'dist/*.tgz!**', reason: 'revoked demo key', owner: 'user:alice', expiresAt: '2027-01-01T00:00:00.000Z' },
      { index: 1, fingerprint: '0123456789abcdef', reason: 'test fixture', expiresAt: '2026-06-01T10:00:00.000Z' },
    ]);
  });

  test('an entry without a reason is refused at load with file:line:column', async () => {
    const ps = await problems(withScan('    - rule: aws-access-token\n      path: "**/*.env"\n'));
    assert.equal(ps.length, 1, JSON.stringify(ps));
    assert.deepEqual([ps[0]!.line, ps[0]!.column, ps[0]!.field], [19, 7, 'scan.allow[0].reason']);
    assert.match(ps[0]!.message, /missing required field `reason`/);
  });

  test('an empty or blank reason is refused too', async () => {
    for (const reason of ['""', '"   "']) {
      const ps = await problems(withScan(`    - rule: aws-access-token\n      reason: ${reason}\n`));
      assert.deepEqual(
        ps.map((p) => [p.line, p.field]),
        [[20, 'scan.allow[0].reason']],
      );
      assert.match(ps[0]!.message, /a reason is required/);
    }
  });

  test('an entry must name a rule, a path or a fingerprint', async () => {
    const ps = await problems(withScan('    - reason: everything is fine\n      owner: user:bob\n'));
    assert.deepEqual(
      ps.map((p) => [p.line, p.column, p.field]),
      [[19, 7, 'scan.allow[0]']],
    );
    assert.match(ps[0]!.message, /at least one of rule, path, fingerprint/);
  });

  test('unknown rule ids, bad fingerprints, bad dates, bad owners and unknown fields are refused, each located', async () => {
    const ps = await problems(
      withScan(
        [
          '    - rule: aws-acess-token',
          '      reason: typo',
          '    - fingerprint: ABC',
          '      reason: not hex',
          '    - path: "**"',
          '      reason: bad date',
          '      expires: next week',
          '    - path: "**"',
          '      reason: bad owner',
          '      owner: alice',
          '    - path: "**"',
          '      reason: unknown field',
          '      because: x',
          '',
        ].join('\n'),
      ),
    );
    assert.deepEqual(
      ps.map((p) => [p.line, p.field]),
      [
        [19, 'scan.allow[0].rule'],
        [21, 'scan.allow[1].fingerprint'],
        [25, 'scan.allow[2].expires'],
        [28, 'scan.allow[3].owner'],
        [31, 'scan.allow[4].because'],
      ],
    );
    assert.match(ps[0]!.message, /not a rule id of the gitleaks default rules/);
    assert.match(ps[1]!.message, /16 to 64 lower-case hex digits/);
    assert.match(ps[2]!.message, /YYYY-MM-DD/);
    assert.match(ps[3]!.message, /not a principal id/);
    assert.match(ps[4]!.message, /unknown field `because`; allowed fields: rule, path, fingerprint, reason, owner, expires/);
  });

  test('an expired entry no longer applies; one that has not expired does', async () => {
    const key = fakes.awsAccessKeyId();
    const text = `AWS_ACCESS_KEY_ID=${key}\n`;
    const p = await parse(withScan('    - rule: aws-access-token\n      reason: demo\n      expires: 2026-03-01\n'));
    const before = effectiveAllowlist(p.scan, new Date('2026-03-01T23:59:59Z'));
    assert.deepEqual(before.notes, []);
    assert.deepEqual(scanText(text, { file: 'a.env', allowlist: before.allowlist }), []);
    const after = effectiveAllowlist(p.scan, new Date('2026-03-02T00:00:00Z'));
    assert.deepEqual(after.allowlist, []);
    assert.match(after.notes[0] ?? '', /scan\.allow\[0\] rule aws-access-token expired at 2026-03-02T00:00:00\.000Z and no longer applies \(reason was: demo\)/);
    assert.deepEqual(scanText(text, { file: 'a.env', allowlist: after.allowlist }).map((f) => f.ruleId), ['aws-access-token']);
  });
});
