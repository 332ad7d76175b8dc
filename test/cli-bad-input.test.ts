/**
 * The real CLI on bad input: usage errors exit 2 and name the flag and the usage, failed checks
 * exit 1 and name the artifact and both digests, no server exits 7 and says how to start one, a
 * broken project file names file:line:col; --json errors are JSON on stderr; nothing is written.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { generateSigningKey } from '../src/crypto/keys.ts';
import { cliPath, type Fixture, makeFixture, makeRelease } from './helpers/fixture.ts';

let fx: Fixture;

function cli(args: string[], cwd = fx.projectDir): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'] },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  fx = await makeFixture();
});
after(() => fx.cleanup());

describe('usage errors exit 2', () => {
  test('an unknown command names it and prints the command list', () => {
    const r = cli(['frobnicate', '--now']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /unknown command: frobnicate/);
    assert.match(r.err, /release create/);
  });
  test('a missing required flag, with --json: JSON on stderr naming the flag and the usage', () => {
    const out = path.join(fx.dir, 'missing-key.bundle.json');
    const r = cli(['release', 'create', '--service', 'checkout', '--version', '1.0.0', '--artifact', 'checkout/server.js', '--out', out, '--json']);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.out, '');
    const body = JSON.parse(r.err) as { error: { code: string; message: string; details: { field?: string; fix?: string } } };
    assert.equal(body.error.code, 'invalid_input');
    assert.match(body.error.message, /--key is required/);
    assert.equal(body.error.details.field, 'key');
    assert.match(body.error.details.fix ?? '', /usage: stagegate release create [\s\S]*--key KEY/);
    assert.ok(!existsSync(out));
  });
  test('release create with a tag-only image names the fix and writes nothing', () => {
    const out = path.join(fx.dir, 'tagged.bundle.json');
    const r = cli(['release', 'create', '--service', 'checkout', '--version', '1.0.0', '--image', 'registry.example.com/checkout:1.0', '--key', fx.keyFile, '--out', out]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /registry\.example\.com\/checkout:1\.0" is not pinned by digest/);
    assert.match(r.err, /fix: pin the image by digest: REPOSITORY@sha256:/);
    assert.ok(!existsSync(out));
  });
});

describe('release verify exits 1 when a check says no', () => {
  let bundleFile: string;
  let rel: Awaited<ReturnType<typeof makeRelease>>;
  before(async () => {
    rel = await makeRelease(fx, '1.0.0');
    bundleFile = path.join(fx.dir, 'checkout-1.0.0.bundle.json');
    await writeFile(bundleFile, rel.bundleJson);
  });
  test('a swapped artifact: names the artifact and both digests', async () => {
    const signed = rel.subjects.find((s) => s.kind === 'artifact')!;
    await writeFile(rel.artifact, `${await readFile(rel.artifact, 'utf8')}\n// swapped\n`);
    const r = cli(['release', 'verify', bundleFile, '--key', fx.pubFile, '--artifact', rel.artifact]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /signature: ok/);
    const line = r.out.split('\n').find((l) => l.includes('mismatch'));
    assert.ok(line?.includes(path.basename(rel.artifact)), r.out);
    assert.ok(r.out.includes(`signed ${signed.digest}`), r.out);
    const actual = /file {3}(sha256:[a-f0-9]{64})/.exec(r.out)?.[1];
    assert.ok(actual && actual !== signed.digest, r.out);
    assert.match(r.out, /FAILED: the files differ from the signed release/);
  });
  test('the wrong key: signature FAILED, names the key the bundle asks for', async () => {
    const other = generateSigningKey();
    const pub = path.join(fx.dir, 'other.pub');
    await writeFile(pub, other.publicKeyPem);
    const r = cli(['release', 'verify', bundleFile, '--key', pub]);
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /signature: FAILED/);
    assert.ok(r.out.includes(rel.keyId), r.out);
    assert.match(r.out, /do not deploy/);
  });
});

describe('server commands', () => {
  test('no server: exit 7 and says how to start one', () => {
    const r = cli(['status', '--server', 'http://127.0.0.1:1', '--token', 'sgt_abcdefgh_abcdefghijklmnopqrstuvwxyz']);
    assert.equal(r.code, 7, r.err);
    assert.match(r.err, /cannot reach the stagegate server at http:\/\/127\.0\.0\.1:1/);
    assert.match(r.err, /stagegate serve/);
    assert.ok(!r.err.includes('abcdefghijklmnopqrstuvwxyz'), 'the token secret was printed');
  });
  test('serve with an invalid project file: exit 2 naming file:line:col; no data folder made', async () => {
    const text = await readFile(fx.projectFile, 'utf8');
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.includes('tier: dev'));
    lines[i] = lines[i]!.replace('tier: dev', 'tier: nonsense');
    const bad = path.join(fx.projectDir, 'bad-tier.yaml');
    await writeFile(bad, lines.join('\n'));
    const data = path.join(fx.dir, 'never-made');
    const r = cli(['serve', '--project', bad, '--data', data, '--port', '0']);
    assert.equal(r.code, 2, r.err);
    const col = lines[i]!.indexOf('nonsense') + 1;
    assert.ok(r.err.includes(`${bad}:${i + 1}:${col}: environments[0].tier`), r.err);
    assert.match(r.err, /fix: use one of dev, test, staging, prod/);
    assert.ok(!existsSync(data));
  });
  test('serve with malformed YAML: exit 2 naming file:line:col', async () => {
    const bad = path.join(fx.projectDir, 'broken.yaml');
    await writeFile(bad, 'apiVersion: stagegate.dev/v1\nproject: [unclosed\nservices: {\n');
    const r = cli(['serve', '--project', bad, '--data', path.join(fx.dir, 'never-made'), '--port', '0']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: \\(yaml\\)`));
    assert.match(r.err, /fix: fix the YAML syntax/);
  });
});
