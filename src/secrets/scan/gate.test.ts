import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { create } from 'tar';
import { normalizeScanSection } from './allowlist.ts';
import { SECRET_SCAN_GATE, secretScanGate } from './gate.ts';
import { fakes } from './test-fakes.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-scan-gate-'));
after(() => rm(dir, { recursive: true, force: true }));
const now = new Date('2026-06-01T00:00:00Z');
const deps = (allow: Parameters<typeof normalizeScanSection>[0] = undefined) => ({ project: { scan: normalizeScanSection(allow) }, clock: () => now });

describe('secret-scan gate', () => {
  test('no artifacts folder (an image-only release): passes, saying there was nothing to scan', async () => {
    const r = await secretScanGate(deps(), join(dir, 'none'));
    assert.deepEqual(r, [{ gate: SECRET_SCAN_GATE, passed: true, message: 'the release has no artifact or config files to scan' }]);
  });

  test('a clean folder passes with the count of files scanned', async () => {
    const d = join(dir, 'clean');
    await mkdir(join(d, 'config'), { recursive: true });
    await writeFile(join(d, 'config', 'app.yaml'), 'replicas: 3\n');
    const r = await secretScanGate(deps(), d);
    assert.equal(r.length, 1);
    assert.equal(r[0]?.passed, true);
    assert.match(r[0]?.message ?? '', /no plaintext secrets in 1 file\(s\), 12 bytes/);
  });

  test('findings in the rendered effective-config.json and inside a tarball fail the gate, one result each, never the secret', async () => {
    const d = join(dir, 'dirty');
    const src = join(dir, 'src');
    await mkdir(join(src, 'pkg'), { recursive: true });
    const aws = fakes.awsAccessKeyId();
    const slack = fakes.slackBotToken();
    await writeFile(join(src, 'pkg', '.env'), `A=1\nAWS_ACCESS_KEY_ID=${aws}\n`);
    await mkdir(d, { recursive: true });
    await create({ gzip: true, file: join(d, 'app.tgz'), cwd: src }, ['pkg']);
    await writeFile(join(d, 'effective-config.json'), JSON.stringify({ notify: { slack: slack } }, null, 2));
    const r = await secretScanGate(deps(), d);
    assert.deepEqual(
      r.map((g) => [g.gate, g.passed, g.subject]),
      [
        [SECRET_SCAN_GATE, false, 'app.tgz!pkg/.env'],
        [SECRET_SCAN_GATE, false, 'effective-config.json'],
      ],
    );
    assert.match(r[0]?.message ?? '', /^app\.tgz!pkg\/\.env:2:19: aws-access-token \(.+\) matched AKIA… \(fingerprint [0-9a-f]{16}\); remove the secret/);
    assert.match(r[1]?.message ?? '', /^effective-config\.json:3:\d+: slack-bot-token .* matched xoxb… /);
    const text = JSON.stringify(r);
    assert.ok(!text.includes(aws.slice(4)) && !text.includes(slack.slice(5)));
    // allowlisted: passes, and says what was allowed and why
    const ok = await secretScanGate(deps({ allow: [{ path: 'effective-config.json', reason: 'webhook of the test workspace' }, { rule: 'aws-access-token', reason: 'revoked' }] }), d);
    assert.equal(ok.length, 1);
    assert.equal(ok[0]?.passed, true);
    assert.match(ok[0]?.message ?? '', /2 finding\(s\) allowed by scan\.allow \(revoked \[scan\.allow\[1\] rule aws-access-token\]; webhook of the test workspace \[scan\.allow\[0\] path effective-config\.json\]\)/);
  });
});
