import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../domain/errors.ts';
import { digestOf } from '../crypto/digest.ts';
import { generateSigningKey, loadPublicKey } from '../crypto/keys.ts';
import { createRelease } from './release-create.ts';
import { verifyRelease } from './release-verify.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-verify-'));
after(() => rm(dir, { recursive: true, force: true }));
const key = generateSigningKey();
const trustedKeys = new Map([[key.keyId, loadPublicKey(key.publicKeyPem, 'k.pub')]]);
const app = join(dir, 'app.tar.gz');
const lib = join(dir, 'lib.so');
await writeFile(app, 'app bytes');
await writeFile(lib, 'lib bytes');
await mkdir(join(dir, 'config'), { recursive: true });
await writeFile(join(dir, 'config/app.yaml'), 'a: 1\n');
const img = `ghcr.io/acme/checkout@sha256:${'c'.repeat(64)}`;
const release = await createRelease({ service: 'checkout', version: '1.0.0', artifacts: [app, lib], images: [img], configDir: join(dir, 'config'), privateKeyPem: key.privateKeyPem });
const statusOf = (r: Awaited<ReturnType<typeof verifyRelease>>) => Object.fromEntries(r.subjects.map((s) => [s.name, s.status]));

describe('verifyRelease', () => {
  test('signature only: subjects not checked', async () => {
    const r = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys });
    assert.deepEqual(r.signature, { ok: true, keyId: key.keyId });
    assert.equal(r.releaseId, release.releaseId);
    assert.equal(`${r.service}@${r.version}`, 'checkout@1.0.0');
    assert.ok(r.subjects.every((s) => s.status === 'not-checked'));
    assert.equal(r.ok, true);
  });
  test('all files: ok; config matched by path suffix; images not checked', async () => {
    const r = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files: [app, lib, join(dir, 'config/app.yaml')] });
    assert.deepEqual(statusOf(r), { 'app.tar.gz': 'ok', 'config/app.yaml': 'ok', 'ghcr.io/acme/checkout': 'not-checked', 'lib.so': 'ok' });
    assert.equal(r.ok, true);
  });
  test('config dir option maps files to config/ names', async () => {
    const r = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files: [app, lib], configDir: join(dir, 'config') });
    assert.equal(statusOf(r)['config/app.yaml'], 'ok');
    assert.equal(r.ok, true);
  });
  test('swapped artifact: mismatch naming it and both digests; others missing', async () => {
    const swapped = join(dir, 'swap', 'app.tar.gz');
    await mkdir(join(dir, 'swap'));
    await writeFile(swapped, 'evil bytes');
    const r = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files: [swapped] });
    const row = r.subjects.find((s) => s.name === 'app.tar.gz');
    assert.equal(row?.status, 'mismatch');
    assert.equal(row?.actual, digestOf('evil bytes'));
    assert.ok(row?.message?.includes('app.tar.gz') && row.message.includes(digestOf('app bytes')) && row.message.includes(digestOf('evil bytes')));
    assert.equal(statusOf(r)['lib.so'], 'missing');
    assert.equal(statusOf(r)['config/app.yaml'], 'missing');
    assert.equal(r.ok, false);
  });
  test('a file that is not a subject is reported unmatched', async () => {
    const extra = join(dir, 'extra.bin');
    await writeFile(extra, 'x');
    const r = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files: [app, lib, join(dir, 'config/app.yaml'), extra] });
    assert.deepEqual(r.unmatchedFiles, [extra]);
    assert.equal(r.ok, false);
  });
  test('two files for one subject are refused', async () => {
    await mkdir(join(dir, 'dup'));
    await writeFile(join(dir, 'dup/app.tar.gz'), 'app bytes');
    await assert.rejects(verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files: [app, join(dir, 'dup/app.tar.gz')] }), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input');
  });
  test('untrusted key: signature fails, nothing is checked, the bundle key is named', async () => {
    const other = generateSigningKey();
    const r = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys: new Map([[other.keyId, loadPublicKey(other.publicKeyPem, 'o')]]), files: [app] });
    assert.equal(r.signature.ok, false);
    assert.ok(r.signature.reason?.includes(key.keyId));
    assert.ok(r.subjects.every((s) => s.status === 'not-checked'));
    assert.equal(r.ok, false);
  });
  test('tampered statement: signature fails', async () => {
    const b = JSON.parse(release.bundleJson);
    const text = Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8').replaceAll('1.0.0', '1.0.1');
    b.dsseEnvelope.payload = Buffer.from(text).toString('base64');
    const r = await verifyRelease({ bundleJson: JSON.stringify(b), trustedKeys });
    assert.equal(r.signature.ok, false);
    assert.match(r.signature.reason ?? '', /altered/);
    assert.equal(r.version, '1.0.1');
  });
  test('unreadable payload with a bad signature: signature_invalid', async () => {
    const b = JSON.parse(release.bundleJson);
    b.dsseEnvelope.payload = Buffer.from('garbage').toString('base64');
    await assert.rejects(verifyRelease({ bundleJson: JSON.stringify(b), trustedKeys }), (e: unknown) => e instanceof DomainError && e.code === 'signature_invalid');
  });
});
