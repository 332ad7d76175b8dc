import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../domain/errors.ts';
import { generateSigningKey, keyIdOf, loadPrivateKey, loadPublicKey, writeKeyPair } from './keys.ts';

const dir = await mkdtemp(join(tmpdir(), 'sg-keys-'));
after(() => rm(dir, { recursive: true, force: true }));

const isInvalid = (file: string, re: RegExp) => (e: unknown) =>
  e instanceof DomainError && e.code === 'invalid_input' && e.details.file === file && re.test(e.message) && Boolean(e.details.fix);

describe('keys', () => {
  test('generated keys are P-256 PEM and the key id is base64 sha256 of SPKI DER', () => {
    const k = generateSigningKey();
    assert.match(k.privateKeyPem, /BEGIN PRIVATE KEY/);
    assert.match(k.publicKeyPem, /BEGIN PUBLIC KEY/);
    const pub = loadPublicKey(k.publicKeyPem, 'k.pub');
    const der = pub.export({ type: 'spki', format: 'der' });
    assert.equal(k.keyId, createHash('sha256').update(der).digest('base64'));
    assert.equal(keyIdOf(createPublicKey(loadPrivateKey(k.privateKeyPem, 'k.key'))), k.keyId);
    assert.match(k.keyId, /^[A-Za-z0-9+/]{43}=$/);
  });
  test('non-P-256 keys are refused naming the file', () => {
    const ed = generateKeyPairSync('ed25519');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => loadPrivateKey(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'ed.key'), isInvalid('ed.key', /ed25519, not ECDSA P-256/));
    assert.throws(() => loadPublicKey(p384.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'p384.pub'), isInvalid('p384.pub', /secp384r1/));
    assert.throws(() => loadPublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'rsa.pub'), isInvalid('rsa.pub', /rsa/));
  });
  test('garbage, encrypted and swapped keys are refused with a fix', () => {
    assert.throws(() => loadPrivateKey('not a key', 'x.key'), isInvalid('x.key', /does not hold a PEM private key/));
    assert.throws(() => loadPublicKey('not a key', 'x.pub'), isInvalid('x.pub', /does not hold a PEM public key/));
    const k = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const enc = k.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    assert.throws(() => loadPrivateKey(enc, 'enc.key'), isInvalid('enc.key', /encrypted/));
    const priv = k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => loadPublicKey(priv, 'oops.pub'), isInvalid('oops.pub', /private key where a public key/));
  });
  test('writeKeyPair writes 0600 / public files and refuses to overwrite', async () => {
    const w = await writeKeyPair(dir, 'release');
    assert.equal((await stat(w.privateKeyPath)).mode & 0o777, 0o600);
    const pub = loadPublicKey(await readFile(w.publicKeyPath, 'utf8'), w.publicKeyPath);
    assert.equal(keyIdOf(pub), w.keyId);
    const before = await readFile(w.privateKeyPath, 'utf8');
    await assert.rejects(writeKeyPair(dir, 'release'), (e: unknown) => e instanceof DomainError && e.code === 'conflict');
    assert.equal(await readFile(w.privateKeyPath, 'utf8'), before);
  });
  test('an existing .pub alone also blocks, and leaves no half-written .key', async () => {
    await writeFile(join(dir, 'half.pub'), 'x');
    await assert.rejects(writeKeyPair(dir, 'half'), (e: unknown) => e instanceof DomainError && e.code === 'conflict');
    await assert.rejects(stat(join(dir, 'half.key')));
  });
  test('bad names are refused', async () => {
    for (const n of ['../x', '', 'a/b', '.hidden']) {
      await assert.rejects(writeKeyPair(dir, n), (e: unknown) => e instanceof DomainError && e.code === 'invalid_input');
    }
  });
});
