/**
 * Interop: a release made by stagegate verifies with independent checkers — `@sigstore/verify`
 * (offline, public-key hint, thresholds 0) and `openssl dgst -verify` on the DSSE PAE — and a
 * flipped byte fails both.
 */
import { execFile } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity } from '@sigstore/verify';
import type { TrustMaterial } from '@sigstore/verify';
import { DomainError } from '../src/domain/errors.ts';
import { generateSigningKey, loadPublicKey } from '../src/crypto/keys.ts';
import { pae } from '../src/crypto/dsse.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { verifyRelease } from '../src/engine/release-verify.ts';

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'sg-interop-'));
after(() => rm(dir, { recursive: true, force: true }));

const key = generateSigningKey();
const publicKey = loadPublicKey(key.publicKeyPem, 'release.pub');
const pubPath = join(dir, 'release.pub');
await writeFile(pubPath, key.publicKeyPem);
await writeFile(join(dir, 'checkout.tar.gz'), Buffer.alloc(3 * 1024 * 1024 + 5, 0x5a));
await writeFile(join(dir, 'checkout.sbom.json'), '{"sbom":true}\n');
await mkdir(join(dir, 'config/prod'), { recursive: true });
await writeFile(join(dir, 'config/prod/app.yaml'), 'replicas: 3\n');
await writeFile(join(dir, 'config/base.yaml'), 'port: 8080\n');
const input = {
  service: 'checkout',
  version: '1.4.2',
  artifacts: [join(dir, 'checkout.tar.gz'), join(dir, 'checkout.sbom.json')],
  images: [`ghcr.io/acme/checkout@sha256:${'0123456789abcdef'.repeat(4)}`],
  configDir: join(dir, 'config'),
  privateKeyPem: key.privateKeyPem,
};
const release = await createRelease(input);

function sigstoreVerify(bundleJson: string, keys: Map<string, KeyObject>): void {
  const trust: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: (hint: string) => {
      const k = keys.get(hint);
      if (!k) throw new Error(`unknown key hint ${hint}`);
      return { publicKey: k, validFor: () => true };
    },
  };
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundleFromJSON(JSON.parse(bundleJson))));
}

async function opensslVerify(name: string, paeBytes: Buffer, sigDer: Buffer): Promise<string> {
  const paePath = join(dir, `${name}.pae`);
  const sigPath = join(dir, `${name}.sig`);
  await writeFile(paePath, paeBytes);
  await writeFile(sigPath, sigDer);
  try {
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', pubPath, '-signature', sigPath, paePath]);
    return stdout.trim();
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? '').trim() || 'failed';
  }
}

const bundle = JSON.parse(release.bundleJson);
const env = bundle.dsseEnvelope as { payload: string; payloadType: string; signatures: Array<{ sig: string }> };
const sig = Buffer.from(env.signatures[0]?.sig ?? '', 'base64');
const payload = Buffer.from(env.payload, 'base64');

describe('release interop', () => {
  test('@sigstore/verify accepts the bundle offline with the key hint', () => {
    sigstoreVerify(release.bundleJson, new Map([[key.keyId, publicKey]]));
  });
  test('@sigstore/verify refuses another key and a flipped payload byte', () => {
    const other = generateSigningKey();
    assert.throws(() => sigstoreVerify(release.bundleJson, new Map([[key.keyId, loadPublicKey(other.publicKeyPem, 'o')]])), /signature verification failed/);
    const flipped = Buffer.from(payload);
    flipped[100] = (flipped[100] ?? 0) ^ 0x01;
    const tampered = { ...bundle, dsseEnvelope: { ...env, payload: flipped.toString('base64') } };
    assert.throws(() => sigstoreVerify(JSON.stringify(tampered), new Map([[key.keyId, publicKey]])), /signature verification failed/);
  });
  test('openssl dgst -verify accepts the DER signature over the PAE', async () => {
    assert.equal(await opensslVerify('good', pae(env.payloadType, payload), sig), 'Verified OK');
  });
  test('openssl refuses a flipped PAE byte and a flipped signature byte', async () => {
    const badPae = pae(env.payloadType, payload);
    badPae[badPae.length - 3] = (badPae[badPae.length - 3] ?? 0) ^ 0x01;
    assert.notEqual(await opensslVerify('bad-pae', badPae, sig), 'Verified OK');
    const badSig = Buffer.from(sig);
    badSig[badSig.length - 1] = (badSig[badSig.length - 1] ?? 0) ^ 0x01;
    assert.notEqual(await opensslVerify('bad-sig', pae(env.payloadType, payload), badSig), 'Verified OK');
  });
  test('same inputs twice: byte-identical statement and the same release id', async () => {
    const again = await createRelease(input);
    assert.ok(again.statementBytes.equals(release.statementBytes));
    assert.equal(again.releaseId, release.releaseId);
  });
  test('a tag-only image is refused with the fix', async () => {
    await assert.rejects(createRelease({ ...input, images: ['ghcr.io/acme/checkout:1.4.2'] }), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input' && /pinned by digest/.test(e.message) && /sha256/.test(String(e.details.fix)));
  });
  test('stagegate verifies its own bundle with all files, and reports a swapped artifact', async () => {
    const files = [...input.artifacts, join(dir, 'config/prod/app.yaml'), join(dir, 'config/base.yaml')];
    const trustedKeys = new Map([[key.keyId, publicKey]]);
    const good = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files });
    assert.equal(good.ok, true);
    await mkdir(join(dir, 'swapped'));
    const swapped = join(dir, 'swapped/checkout.tar.gz');
    await writeFile(swapped, 'not the release');
    const bad = await verifyRelease({ bundleJson: release.bundleJson, trustedKeys, files: [swapped, ...files.slice(1)] });
    const row = bad.subjects.find((s) => s.name === 'checkout.tar.gz');
    assert.equal(row?.status, 'mismatch');
    assert.ok(row?.message?.includes(row.expected) && row.message.includes(row.actual ?? '?'));
    assert.notEqual(row?.expected, row?.actual);
    assert.equal(bad.ok, false);
  });
});
