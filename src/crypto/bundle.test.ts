import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DomainError } from '../domain/errors.ts';
import { BUNDLE_MEDIA_TYPE, MAX_BUNDLE_BYTES, bundleToJson, parseBundle, toBundle } from './bundle.ts';
import { signDsse, verifyDsse } from './dsse.ts';
import { keyIdOf } from './keys.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const keyId = keyIdOf(publicKey);
const envelope = signDsse('application/vnd.in-toto+json', Buffer.from('{"x":1}'), privateKey, keyId);
const json = bundleToJson(toBundle(envelope, keyId));

describe('bundle', () => {
  test('has the Sigstore v0.3 shape', () => {
    const b = JSON.parse(json);
    assert.equal(b.mediaType, BUNDLE_MEDIA_TYPE);
    assert.deepEqual(b.verificationMaterial, { publicKey: { hint: keyId }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } });
    assert.deepEqual(b.dsseEnvelope, envelope);
  });
  test('round trip and verify', () => {
    const p = parseBundle(json, 'b.json');
    assert.equal(p.hint, keyId);
    assert.deepEqual(p.envelope, envelope);
    assert.ok(verifyDsse(p.envelope, new Map([[keyId, publicKey]])).ok);
  });
  const refuses = (text: string, field: string | undefined, code = 'invalid_input') =>
    assert.throws(() => parseBundle(text, 'b.json'), (e: unknown) => e instanceof DomainError && e.code === code && e.details.file === 'b.json' && e.details.field === field && Boolean(e.details.fix));
  test('errors name the field', () => {
    const b = JSON.parse(json);
    refuses('{', undefined);
    refuses(JSON.stringify({ ...b, mediaType: 'application/json' }), 'mediaType');
    refuses(JSON.stringify({ ...b, verificationMaterial: { certificate: {} } }), 'verificationMaterial.publicKey');
    refuses(JSON.stringify({ ...b, dsseEnvelope: undefined }), 'dsseEnvelope');
    refuses(JSON.stringify({ ...b, dsseEnvelope: { ...envelope, signatures: [] } }), 'dsseEnvelope.signatures');
    refuses(JSON.stringify({ ...b, dsseEnvelope: { ...envelope, payload: 1 } }), 'dsseEnvelope.payload');
  });
  test('oversized bundles are refused before parsing', () => {
    refuses(' '.repeat(MAX_BUNDLE_BYTES + 1), undefined, 'payload_too_large');
  });
  test('property: arbitrary text and JSON yield a bundle or a DomainError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (t) => {
        try {
          parseBundle(t, 'x');
          return true;
        } catch (e) {
          return e instanceof DomainError;
        }
      }),
    );
  });
  test('property: mutating one field of a good bundle never throws a non-DomainError', () => {
    const b = JSON.parse(json);
    fc.assert(
      fc.property(fc.constantFrom('mediaType', 'verificationMaterial', 'dsseEnvelope'), fc.jsonValue(), (k, v) => {
        try {
          parseBundle(JSON.stringify({ ...b, [k]: v }), 'x');
          return true;
        } catch (e) {
          return e instanceof DomainError;
        }
      }),
    );
  });
});
