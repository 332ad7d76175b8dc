import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { create } from 'tar';
import { DomainError } from '../../domain/errors.ts';
import { scanAllowlistSchema, sha256Hex } from './detect.ts';
import { formatReport, toSarif } from './report.ts';
import { scanPath } from './scan-path.ts';
import { fakes } from './test-fakes.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-scan-'));
after(() => rm(dir, { recursive: true, force: true }));

const pat = fakes.githubPat();
const aws = fakes.awsAccessKeyId();
const slack = fakes.slackBotToken();

// a release-like tree: config, a tarball with a secret inside, a binary, noise that must be skipped
const src = join(dir, 'src');
await mkdir(join(src, 'package/config'), { recursive: true });
await writeFile(join(src, 'package/config/prod.env'), `LOG_LEVEL=info\nSLACK_TOKEN=${slack}\n`);
await writeFile(join(src, 'package/index.js'), 'module.exports = 1;\n');
const tree = join(dir, 'tree');
await mkdir(join(tree, 'config'), { recursive: true });
await mkdir(join(tree, 'node_modules/lib'), { recursive: true });
await writeFile(join(tree, 'config/app.yaml'), `name: shop\ngithub_token: ${pat}\n`);
await writeFile(join(tree, 'node_modules/lib/index.js'), `x = "${fakes.githubPat()}"\n`);
await writeFile(join(tree, 'logo.dat'), Buffer.concat([Buffer.from([0x89, 0x50, 0, 1]), Buffer.from(`AWS=${aws}\n`)]));
await writeFile(join(tree, 'clean.txt'), 'nothing to see\n');
await create({ gzip: true, file: join(tree, 'app.tgz'), cwd: src }, ['package']);
await create({ file: join(dir, 'plain.tar'), cwd: src }, ['package']);
// a tarball inside a tarball
await mkdir(join(dir, 'outer'));
await create({ gzip: true, file: join(dir, 'outer/inner.tgz'), cwd: src }, ['package']);
await create({ gzip: true, file: join(dir, 'outer.tgz'), cwd: join(dir, 'outer') }, ['inner.tgz']);

describe('scanPath', () => {
  test('a folder: finds the config secret and the secret inside the tarball, skips node_modules and binaries', async () => {
    const r = await scanPath(tree);
    const got = r.findings.map((f) => [f.file, f.line, f.ruleId]);
    assert.deepEqual(got, [
      ['app.tgz!package/config/prod.env', 2, 'slack-bot-token'],
      ['config/app.yaml', 2, 'github-pat'],
    ]);
    assert.ok(r.notes.some((n) => n.startsWith('logo.dat: binary')), r.notes.join('\n'));
    assert.ok(!JSON.stringify(r).includes(pat.slice(0, 8)) && !JSON.stringify(r).includes(slack.slice(0, 8)));
    assert.ok(r.filesScanned >= 4);
  });
  test('a .tar and a .tgz given directly; a nested tarball', async () => {
    const plain = await scanPath(join(dir, 'plain.tar'));
    assert.deepEqual(plain.findings.map((f) => f.file), ['plain.tar!package/config/prod.env']);
    const nested = await scanPath(join(dir, 'outer.tgz'));
    assert.deepEqual(nested.findings.map((f) => f.file), ['outer.tgz!inner.tgz!package/config/prod.env']);
  });
  test('bounds: files over the size bound and archives over the unpacked bound are noted, not scanned', async () => {
    const small = await scanPath(tree, { maxFileBytes: 20 });
    assert.deepEqual(small.findings, []);
    assert.ok(small.notes.some((n) => /config\/app\.yaml: \d+ bytes, over the 20-byte bound/.test(n)), small.notes.join('\n'));
    const bounded = await scanPath(join(tree, 'app.tgz'), { maxArchiveBytes: 10 });
    assert.deepEqual(bounded.findings, []);
    assert.ok(bounded.notes.some((n) => /more than 10 bytes unpacked/.test(n)), bounded.notes.join('\n'));
  });
  test('a file that is not a tar archive is noted, the scan goes on', async () => {
    await writeFile(join(dir, 'broken.tgz'), 'not a tarball at all, just text\n'.repeat(40));
    const r = await scanPath(join(dir, 'broken.tgz'));
    assert.deepEqual(r.findings, []);
    assert.ok(r.notes.some((n) => n.startsWith('broken.tgz: not a readable tar archive')), r.notes.join('\n'));
  });
  test('project allowlist entries suppress with their reason', async () => {
    const allowlist = scanAllowlistSchema.parse([{ secretHash: sha256Hex(pat), reason: 'revoked, kept for the demo' }]);
    const r = await scanPath(tree, { allowlist });
    assert.deepEqual(r.findings.map((f) => f.ruleId), ['slack-bot-token']);
    assert.deepEqual(r.suppressed.map((s) => [s.finding.file, s.reason]), [['config/app.yaml', 'revoked, kept for the demo']]);
    assert.match(formatReport(r), /allowed {2}config\/app\.yaml:2 {2}github-pat .* reason: revoked, kept for the demo/);
  });
  test('a missing path is a not_found error naming it', async () => {
    await assert.rejects(scanPath(join(dir, 'nope')), (e) => e instanceof DomainError && e.code === 'not_found' && e.details.file === join(dir, 'nope'));
  });
});

describe('report formats', () => {
  test('text report: file:line:column, rule id, redacted match, summary', async () => {
    const text = formatReport(await scanPath(tree));
    assert.match(text, new RegExp(`config/app\\.yaml:2:15 {2}github-pat {2}${pat.slice(0, 4)}…`));
    assert.match(text, /FOUND 2 secret\(s\) in 2 file\(s\)/);
    assert.ok(!text.includes(pat.slice(0, 5)));
  });
  test('SARIF 2.1.0 shape', async () => {
    const r = await scanPath(tree);
    const sarif = toSarif(r.findings);
    assert.equal(sarif.version, '2.1.0');
    assert.match(sarif.$schema, /sarif-2\.1\.0/);
    const run = sarif.runs[0];
    assert.ok(run);
    assert.equal(run.tool.driver.name, 'stagegate-scan');
    assert.deepEqual(run.tool.driver.rules.map((x) => x.id), ['slack-bot-token', 'github-pat']);
    const res = run.results[1];
    assert.ok(res);
    assert.equal(res.ruleId, 'github-pat');
    assert.equal(run.tool.driver.rules[res.ruleIndex]?.id, 'github-pat');
    assert.deepEqual(res.locations[0]?.physicalLocation, { artifactLocation: { uri: 'config/app.yaml' }, region: { startLine: 2, startColumn: 15 } });
    assert.equal(res.partialFingerprints['secretHash/v1'], sha256Hex(pat));
    assert.equal(run.results[0]?.locations[0]?.physicalLocation.artifactLocation.uri, 'app.tgz!package/config/prod.env');
    assert.ok(!JSON.stringify(sarif).includes(pat.slice(0, 5)));
    assert.deepEqual(toSarif([]).runs[0]?.results, []);
  });
});
