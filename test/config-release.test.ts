/**
 * Releases of a manifest folder: the effective config of every environment is signed as SLSA
 * byproducts, `--needs` lands in externalParameters, and the bundle still verifies with stagegate
 * and with @sigstore/verify. The config can be read back from the blob store.
 */
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { Verifier, toSignedEntity } from '@sigstore/verify';
import { generateSigningKey, keyIdOf, loadPublicKey } from '../src/crypto/keys.ts';
import { DomainError } from '../src/domain/errors.ts';
import { createRelease } from '../src/engine/release-create.ts';
import { verifyRelease } from '../src/engine/release-verify.ts';
import { effectiveConfigFromDir, effectiveConfigOfRelease } from '../src/parity/config/effective-config.ts';
import { releaseNeeds, releasePredicate, signedConfigDigests } from '../src/parity/config/release-params.ts';
import { createBlobStore } from '../src/store/blob-store.ts';
import type { ReleaseRecord } from '../src/store/store.ts';
import { repoRoot } from './helpers/fixture.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sg-cfg-rel-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const manifest = path.join(dir, 'manifest');
cpSync(path.join(repoRoot, 'examples', 'shop', 'manifest'), manifest, { recursive: true });
const configDir = path.join(manifest, 'checkout');
const artifact = path.join(dir, 'server.js');
writeFileSync(artifact, 'console.log("checkout")\n');
const key = generateSigningKey();
const publicKey = loadPublicKey(key.publicKeyPem, 'ci.pub');
const keys = new Map<string, KeyObject>([[keyIdOf(publicKey), publicKey]]);

const make = (over: Partial<Parameters<typeof createRelease>[0]> = {}) =>
  createRelease({ service: 'checkout', version: '1.2.0', artifacts: [artifact], images: [], configDir, privateKeyPem: key.privateKeyPem, ...over });

const record = (r: Awaited<ReturnType<typeof make>>): ReleaseRecord => ({
  id: r.releaseId,
  service: 'checkout',
  version: '1.2.0',
  bundle: r.bundleJson,
  signerKeyId: r.keyId,
  subjects: r.subjects.map((s) => ({ name: s.name, digest: s.digest, kind: s.kind, size: s.size })),
  pushedBy: 'user:test',
  createdAt: new Date().toISOString(),
});

describe('release create with a manifest folder', () => {
  test('signs one effective-config byproduct per environment and the needs', async () => {
    const r = await make({ needs: ['service:payments@^2.1.0', 'platform:node@>=20 <23'] });
    const rec = record(r);
    const predicate = releasePredicate(rec);
    const signed = signedConfigDigests(predicate);
    assert.deepEqual([...signed.keys()].sort(), ['base', 'prod', 'staging']);
    for (const env of ['base', 'staging', 'prod']) assert.equal(signed.get(env), (await effectiveConfigFromDir(manifest, 'checkout', env)).digest);
    assert.deepEqual(await releaseNeeds(rec), [
      { kind: 'platform', name: 'node', range: '>=20 <23' },
      { kind: 'service', name: 'payments', range: '^2.1.0' },
    ]);
    assert.deepEqual(predicate.buildDefinition.externalParameters['stagegate'], { needs: await releaseNeeds(rec) });

    const v = await verifyRelease({ bundleJson: r.bundleJson, trustedKeys: keys, files: [artifact], configDir });
    assert.equal(v.ok, true, JSON.stringify(v.subjects));
    const trust = {
      certificateAuthorities: [],
      timestampAuthorities: [],
      tlogs: [],
      ctlogs: [],
      publicKey: (hint: string) => ({ publicKey: keys.get(hint) ?? assert.fail(`unknown ${hint}`), validFor: () => true }),
    };
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(JSON.parse(r.bundleJson))));
  });

  test('the same folder gives the same release id; a changed overlay changes its byproduct only', async () => {
    const a = await make();
    assert.equal((await make()).releaseId, a.releaseId);
    const copy = path.join(dir, 'copy');
    cpSync(configDir, copy, { recursive: true });
    writeFileSync(path.join(copy, 'prod.yaml'), 'runtime:\n  replicas: 5\n');
    const b = await make({ configDir: copy });
    const sa = signedConfigDigests(releasePredicate(record(a)));
    const sb = signedConfigDigests(releasePredicate(record(b)));
    assert.equal(sa.get('staging'), sb.get('staging'));
    assert.equal(sa.get('base'), sb.get('base'));
    assert.notEqual(sa.get('prod'), sb.get('prod'));
  });

  test('an invalid manifest or bad --needs refuses to sign, naming file and fix', async () => {
    const bad = path.join(dir, 'bad');
    cpSync(configDir, bad, { recursive: true });
    writeFileSync(path.join(bad, 'prod.patch.yaml'), '- {op: test, path: /runtime/replicas, value: 7}\n');
    await assert.rejects(make({ configDir: bad }), (e: unknown) => e instanceof DomainError && /prod\.patch\.yaml:1:3: operation #0 \(test \/runtime\/replicas\)/.test(e.message));
    await assert.rejects(make({ needs: ['payments@2'] }), /not KIND:NAME@RANGE/);
    // a plain config folder with a base.yaml that is not a manifest is signed as before
    const plain = path.join(dir, 'plain');
    cpSync(path.join(repoRoot, 'examples', 'shop', 'checkout', 'config'), plain, { recursive: true });
    writeFileSync(path.join(plain, 'base.yaml'), 'port: 8080\n');
    const p = await make({ configDir: plain });
    assert.equal(signedConfigDigests(releasePredicate(record(p))).size, 0);
    assert.deepEqual(await releaseNeeds(record(p)), []);
  });

  test('a provenance that already carries stagegate byproducts or needs is refused', async () => {
    const prov = path.join(dir, 'prov.json');
    writeFileSync(
      prov,
      JSON.stringify({
        buildDefinition: { buildType: 'https://example.com/build', externalParameters: { stagegate: { needs: [] } } },
        runDetails: { builder: { id: 'https://example.com/ci' }, byproducts: [{ name: 'log', digest: { sha256: 'a'.repeat(64) } }] },
      }),
    );
    const r = await make({ provenanceFile: prov });
    const names = (releasePredicate(record(r)).runDetails.byproducts ?? []).map((b) => b.name);
    assert.deepEqual(names, ['log', 'stagegate:effective-config/base', 'stagegate:effective-config/prod', 'stagegate:effective-config/staging']);
    await assert.rejects(make({ provenanceFile: prov, needs: ['platform:node@20'] }), /already sets buildDefinition\.externalParameters\.stagegate/);
  });

  test('effectiveConfigOfRelease reads the config subjects back from the blob store and checks their digests', async () => {
    const r = await make();
    const rec = record(r);
    const blobs = createBlobStore({ dir: path.join(dir, 'blobs') });
    assert.equal(await effectiveConfigOfRelease({ blobs }, rec, 'prod').catch((e: Error) => e.message), `config/base.yaml cannot be read (ENOENT)`);
    for (const s of r.subjects.filter((x) => x.kind === 'config')) {
      await blobs.put(Readable.from(readFileSync(path.join(configDir, s.name.slice('config/'.length)))), { maxBytes: 1 << 20 });
    }
    const eff = await effectiveConfigOfRelease({ blobs }, rec, 'prod');
    assert.equal(eff?.digest, (await effectiveConfigFromDir(manifest, 'checkout', 'prod')).digest);
    assert.equal(eff?.origins['/runtime/replicas'], 'overlay:prod.yaml');
    const noManifest = { ...rec, subjects: rec.subjects.filter((s) => s.name !== 'config/base.yaml') };
    assert.equal(await effectiveConfigOfRelease({ blobs }, noManifest, 'prod'), undefined);
    // a stored blob altered after upload is refused with both digests
    const prod = rec.subjects.find((x) => x.name === 'config/prod.yaml')!;
    rmSync(blobs.pathOf(prod.digest));
    writeFileSync(blobs.pathOf(prod.digest), 'runtime: {replicas: 1}\n');
    await assert.rejects(effectiveConfigOfRelease({ blobs }, rec, 'prod'), (e: unknown) => e instanceof DomainError && e.code === 'digest_mismatch' && e.message.includes(prod.digest));
    // staging does not read prod.yaml, so it still computes
    assert.equal((await effectiveConfigOfRelease({ blobs }, rec, 'staging'))?.environment, 'staging');
  });
});
