/**
 * The CLI side of secret scanning: `stagegate scan PATH --project FILE` applies the project's
 * allowlist offline (by rule and path, by fingerprint, not once expired), and `stagegate release
 * push` of a release holding a secret exits 1 with the server's refusal, never the secret.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { CliContext } from '../src/cli/command.ts';
import { scanCommand } from '../src/cli/commands/scan.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { fakes } from '../src/secrets/scan/test-fakes.ts';
import { cliPath, type Fixture, makeFixture, startApp } from './helpers/fixture.ts';

const run = promisify(execFile);
const aws = fakes.awsAccessKeyId();
let fx: Fixture;
let baseYaml = '';

function capture(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  const ctx: CliContext = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd };
  return { ctx, text: () => out.join('\n') };
}
const scan = async (args: string[]) => {
  const c = capture(fx.dir);
  const code = await scanCommand.run(args, c.ctx);
  return { code, text: c.text() };
};
const allow = (entry: string) => writeFile(fx.projectFile, `${baseYaml}\nscan:\n  allow:\n${entry}`);

describe('stagegate scan --project and release push', () => {
  before(async () => {
    fx = await makeFixture();
    baseYaml = await readFile(fx.projectFile, 'utf8');
    mkdirSync(path.join(fx.dir, 'build', 'conf'), { recursive: true });
    await writeFile(path.join(fx.dir, 'build', 'conf', 'creds.ini'), `[default]\naws_access_key_id = ${aws}\n`);
    await writeFile(path.join(fx.dir, 'build', 'index.js'), 'module.exports = 1;\n');
  });
  after(() => fx.cleanup());

  test('without --project the finding fails the scan and prints its fingerprint', async () => {
    const r = await scan(['build']);
    assert.equal(r.code, 1);
    assert.match(r.text, /^conf\/creds\.ini:2:21 {2}aws-access-token {2}AKIA… {2}fingerprint [0-9a-f]{16}$/m);
    assert.ok(!r.text.includes(aws.slice(4)));
  });

  test('--project applies a rule+path entry, and the report shows the reason', async () => {
    await allow('    - rule: aws-access-token\n      path: "conf/*.ini"\n      reason: localstack test credentials\n      owner: user:alice\n');
    const r = await scan(['build', '--project', fx.projectFile]);
    assert.equal(r.code, 0, r.text);
    assert.match(r.text, /^allowed {2}conf\/creds\.ini:2 {2}aws-access-token {2}AKIA… {2}reason: localstack test credentials \(owner user:alice\)/m);
    // a path that does not match leaves the finding
    await allow('    - rule: aws-access-token\n      path: "other/*.ini"\n      reason: elsewhere\n');
    assert.equal((await scan(['build', '--project', fx.projectDir])).code, 1);
  });

  test('--project applies an entry by the printed fingerprint', async () => {
    const fp = /fingerprint ([0-9a-f]{16})/.exec((await scan(['build'])).text)?.[1];
    assert.ok(fp);
    await allow(`    - fingerprint: ${fp}\n      reason: rotated on 2026-11-01\n`);
    assert.equal((await scan(['build', '--project', fx.projectFile])).code, 0);
    await allow(`    - fingerprint: ${fp!.replace(/^./, (c) => (c === '0' ? '1' : '0'))}\n      reason: another secret\n`);
    assert.equal((await scan(['build', '--project', fx.projectFile])).code, 1);
  });

  test('an expired entry no longer applies, and the report says so', async () => {
    await allow('    - rule: aws-access-token\n      reason: temporary\n      expires: 2020-01-01\n');
    const r = await scan(['build', '--project', fx.projectFile]);
    assert.equal(r.code, 1);
    assert.match(r.text, /note: scan\.allow\[0\] rule aws-access-token expired at 2020-01-02T00:00:00\.000Z and no longer applies/);
  });

  test('a project entry without a reason stops the scan with file:line:column', async () => {
    await allow('    - rule: aws-access-token\n');
    await assert.rejects(scan(['build', '--project', fx.projectFile]), (e: Error) => /stagegate\.yaml:\d+:\d+: scan\.allow\[0\]\.reason: missing required field `reason`/.test(e.message));
  });

  test('`stagegate release push` of a tarball holding a secret exits 1 with the refusal, not the secret', async () => {
    await writeFile(fx.projectFile, baseYaml);
    const s = await startApp(fx);
    try {
      const tgz = path.join(fx.dir, 'app.tgz');
      const { create } = await import('tar');
      await create({ gzip: true, file: tgz, cwd: path.join(fx.dir, 'build') }, ['conf', 'index.js']);
      const rel = await createRelease({ service: 'checkout', version: '9.0.0', artifacts: [tgz], images: [], privateKeyPem: await readFile(fx.keyFile, 'utf8') });
      const bundle = path.join(fx.dir, 'bundle.json');
      await writeFile(bundle, rel.bundleJson);
      const r = await run(process.execPath, [cliPath, 'release', 'push', bundle, '--artifact', tgz, '--server', s.url, '--token', s.token]).then(
        () => assert.fail('push should fail'),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /checkout@9\.0\.0 contains 1 plaintext secret: app\.tgz!conf\/creds\.ini:2:21 aws-access-token AKIA…/);
      assert.match(r.stderr, /fix: remove the secret/);
      assert.ok(!`${r.stdout}${r.stderr}`.includes(aws.slice(4)));
    } finally {
      await s.app.close();
    }
  });
});
