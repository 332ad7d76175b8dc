import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../domain/errors.ts';
import { parseBundle } from '../crypto/bundle.ts';
import { digestOf } from '../crypto/digest.ts';
import { verifyDsse } from '../crypto/dsse.ts';
import { generateSigningKey, loadPublicKey } from '../crypto/keys.ts';
import { parseReleaseStatement } from '../crypto/statement.ts';
import { createRelease, listConfigFiles } from './release-create.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-create-'));
after(() => rm(dir, { recursive: true, force: true }));
const key = generateSigningKey();
const img = `ghcr.io/acme/checkout@sha256:${'c'.repeat(64)}`;
await writeFile(join(dir, 'app.tar.gz'), 'app bytes');
await mkdir(join(dir, 'cfg/nested'), { recursive: true });
await writeFile(join(dir, 'cfg/b.yaml'), 'b: 1\n');
await writeFile(join(dir, 'cfg/nested/a.yaml'), 'a: 1\n');
await writeFile(join(dir, 'outside.txt'), 'secret');
const isErr = (code: string, re: RegExp) => (e: unknown) => e instanceof DomainError && e.code === code && re.test(e.message) && Boolean(e.details.fix);
const base = () => ({ service: 'checkout', version: '1.0.0', artifacts: [join(dir, 'app.tar.gz')], images: [img], configDir: join(dir, 'cfg'), privateKeyPem: key.privateKeyPem });

describe('createRelease', () => {
  test('signs artifacts, images and config; release id is the statement digest', async () => {
    const r = await createRelease(base());
    assert.equal(r.releaseId, digestOf(r.statementBytes));
    assert.equal(r.keyId, key.keyId);
    assert.deepEqual(r.subjects.map((s) => [s.name, s.kind, s.size]), [
      ['app.tar.gz', 'artifact', 9],
      ['config/b.yaml', 'config', 5],
      ['config/nested/a.yaml', 'config', 5],
      ['ghcr.io/acme/checkout', 'image', null],
    ]);
    assert.equal(r.subjects[0]?.digest, digestOf('app bytes'));
    const { envelope, hint } = parseBundle(r.bundleJson, 'b');
    assert.equal(hint, key.keyId);
    const v = verifyDsse(envelope, new Map([[key.keyId, loadPublicKey(key.publicKeyPem, 'k')]]), { payloadType: 'application/vnd.in-toto+json' });
    assert.ok(v.ok);
    assert.ok(v.payload.equals(r.statementBytes));
    assert.equal(parseReleaseStatement(v.payload).version, '1.0.0');
  });
  test('same inputs twice give the same statement and release id; signatures differ', async () => {
    const a = await createRelease(base());
    const b = await createRelease(base());
    assert.ok(a.statementBytes.equals(b.statementBytes));
    assert.equal(a.releaseId, b.releaseId);
  });
  test('provenance file is validated and kept', async () => {
    const p = join(dir, 'prov.json');
    await writeFile(p, JSON.stringify({ buildDefinition: { buildType: 'https://example.com/ci/v1', externalParameters: { ref: 'main' } }, runDetails: { builder: { id: 'https://example.com/ci' } } }));
    const r = await createRelease({ ...base(), provenanceFile: p });
    assert.equal(parseReleaseStatement(r.statementBytes).predicate.buildDefinition.buildType, 'https://example.com/ci/v1');
    await writeFile(p, '{"buildDefinition": 1}');
    await assert.rejects(createRelease({ ...base(), provenanceFile: p }), isErr('invalid_input', /not a SLSA Provenance v1 predicate/));
    await writeFile(p, 'nope');
    await assert.rejects(createRelease({ ...base(), provenanceFile: p }), isErr('invalid_input', /not JSON/));
  });
  test('refusals name what is wrong', async () => {
    await assert.rejects(createRelease({ ...base(), images: ['ghcr.io/acme/checkout:1.0'] }), isErr('invalid_input', /not pinned by digest/));
    await assert.rejects(createRelease({ ...base(), artifacts: [join(dir, 'missing.bin')] }), isErr('not_found', /missing\.bin/));
    await assert.rejects(createRelease({ ...base(), artifacts: [join(dir, 'cfg')] }), isErr('invalid_input', /not a regular file/));
    await assert.rejects(createRelease({ ...base(), privateKeyPem: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }), isErr('invalid_input', /not ECDSA P-256/));
    await assert.rejects(createRelease({ ...base(), artifacts: [join(dir, 'app.tar.gz'), join(dir, 'app.tar.gz')] }), isErr('invalid_input', /two subjects/));
  });
});

describe('listConfigFiles', () => {
  test('symlinks inside are followed, outside refused', async () => {
    const d = join(dir, 'links');
    await mkdir(d);
    await writeFile(join(d, 'real.yaml'), 'x');
    await symlink(join(d, 'real.yaml'), join(d, 'inside.yaml'));
    assert.deepEqual((await listConfigFiles(d)).map((f) => f.relativePath), ['inside.yaml', 'real.yaml']);
    await symlink(join(dir, 'outside.txt'), join(d, 'zz-out.txt'));
    await assert.rejects(listConfigFiles(d), isErr('invalid_input', /outside the directory/));
  });
  test('a symlinked directory and a missing dir are refused', async () => {
    const d = join(dir, 'dirlink');
    await mkdir(join(d, 'sub'), { recursive: true });
    await symlink(join(d, 'sub'), join(d, 'alias'));
    await assert.rejects(listConfigFiles(d), isErr('invalid_input', /other than a regular file/));
    await assert.rejects(listConfigFiles(join(dir, 'none')), isErr('invalid_input', /cannot be read/));
  });
});
