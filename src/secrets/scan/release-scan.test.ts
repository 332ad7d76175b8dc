import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { normalizeScanSection } from './allowlist.ts';
import type { Finding } from './detect.ts';
import { scanReleaseBlobs, secretDetectedError, shownFile } from './release-scan.ts';
import type { ScanReport } from './scan-path.ts';
import { fakes } from './test-fakes.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-release-scan-'));
after(() => rm(dir, { recursive: true, force: true }));
const finding = (file: string, line = 2): Finding => ({ ruleId: 'aws-access-token', description: 'd', file, line, column: 19, match: 'AKIA…', secretHash: 'ab'.repeat(32), entropy: 3.9 });
const report = (findings: Finding[]): ScanReport => ({ root: 'release', findings, suppressed: [], notes: [], filesScanned: 1, bytesScanned: 10 });

describe('release scan', () => {
  test('blobs are scanned under their subject names; images are skipped; a missing blob is a note', async () => {
    const key = fakes.awsAccessKeyId();
    await writeFile(join(dir, 'blob-a'), `AWS_ACCESS_KEY_ID=${key}\n`);
    await writeFile(join(dir, 'blob-b'), 'replicas: 3\n');
    const blobs = { pathOf: (d: string) => join(dir, d.replace('sha256:', 'blob-')) };
    const subjects = [
      { name: 'config/prod.env', digest: 'sha256:a', kind: 'config' },
      { name: 'config/app.yaml', digest: 'sha256:b', kind: 'config' },
      { name: 'ghcr.io/shop/checkout', digest: 'sha256:c', kind: 'image' },
      { name: 'lost.txt', digest: 'sha256:d', kind: 'artifact' },
    ];
    const r = await scanReleaseBlobs({ blobs, project: {}, now: new Date() }, subjects);
    assert.deepEqual(r.findings.map((f) => [f.file, f.line, f.ruleId]), [['config/prod.env', 1, 'aws-access-token']]);
    assert.equal(r.filesScanned, 2);
    assert.deepEqual(r.notes, ['lost.txt: not stored, not scanned']);
    const project = { scan: normalizeScanSection({ allow: [{ path: 'config/*.env', reason: 'local stack', expires: '2020-01-01' }] }) };
    const expired = await scanReleaseBlobs({ blobs, project, now: new Date() }, subjects.slice(0, 1));
    assert.equal(expired.findings.length, 1);
    assert.match(expired.notes[0] ?? '', /scan\.allow\[0\] path config\/\*\.env expired/);
    const allowed = await scanReleaseBlobs({ blobs, project, now: new Date('2019-12-31T00:00:00Z') }, subjects.slice(0, 1));
    assert.deepEqual([allowed.findings.length, allowed.suppressed.length], [0, 1]);
  });

  test('the refusal: code, message with file:line:column, rule, redacted match and fingerprint, details and fix', () => {
    const e = secretDetectedError('checkout@1.0.0', report([finding('app.tgz!pkg/.env'), finding('config/ci.yaml', 7)]));
    assert.equal(e.code, 'secret_detected');
    assert.equal(
      e.message,
      'checkout@1.0.0 contains 2 plaintext secrets: app.tgz!pkg/.env:2:19 aws-access-token AKIA… (fingerprint abababababababab); config/ci.yaml:7:19 aws-access-token AKIA… (fingerprint abababababababab); the release was not stored',
    );
    assert.deepEqual([e.details.file, e.details.line, e.details.column], ['app.tgz!pkg/.env', 2, 19]);
    assert.deepEqual(e.details['findings'], [
      { file: 'app.tgz!pkg/.env', line: 2, column: 19, rule: 'aws-access-token', match: 'AKIA…', fingerprint: 'abababababababab' },
      { file: 'config/ci.yaml', line: 7, column: 19, rule: 'aws-access-token', match: 'AKIA…', fingerprint: 'abababababababab' },
    ]);
    assert.match(e.details.fix ?? '', /rotate it.*scan\.allow.*reason/);
  });

  test('long lists and long names are bounded', () => {
    const many = Array.from({ length: 150 }, (_, i) => finding(`f${i}.env`));
    const e = secretDetectedError('x@1', report(many));
    assert.match(e.message, /f19\.env:2:19 .*; … and 130 more; the release was not stored$/);
    assert.ok(!e.message.includes('f20.env'));
    assert.equal((e.details['findings'] as unknown[]).length, 100);
    const long = `a.tgz!${'d/'.repeat(400)}x.env`;
    assert.equal(shownFile('short'), 'short');
    assert.equal(shownFile(long).length, 300);
    assert.ok(shownFile(long).startsWith('a.tgz!d/') && shownFile(long).endsWith('/x.env'));
    assert.ok(secretDetectedError('x@1', report([finding(long)])).message.length < 500);
  });
});
